/// Python's `str.format` / `str.format_map` as jinja2's sandbox runs them: `{}`, `{0}`,
/// `{name}`, `{0.attr}`, `{0[key]}`, conversions `!s !r !a`, and the format-spec mini-language
/// (`[[fill]align][sign][#][0][width][,|_][.precision][type]`, nested `{}` in the spec).
struct StringFormat {
    let renderer: Renderer
    let positional: [Value]
    let keywords: ValueDictionary
    private var automaticIndex = 0
    private var numbering: Bool?

    init(renderer: Renderer, positional: [Value], keywords: ValueDictionary) {
        self.renderer = renderer
        self.positional = positional
        self.keywords = keywords
    }

    mutating func format(_ template: String, depth: Int = 0) throws -> String {
        guard depth <= 2 else { throw ChatTemplateError(.value, "Max string recursion exceeded") }
        let scalars = PythonText.scalars(template)
        var result = ""
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            if scalar == "}" {
                guard i + 1 < scalars.count, scalars[i + 1] == "}" else {
                    throw ChatTemplateError(.value, "Single '}' encountered in format string")
                }
                result += "}"
                i += 2
                continue
            }
            guard scalar == "{" else {
                result.unicodeScalars.append(scalar)
                i += 1
                continue
            }
            if i + 1 < scalars.count, scalars[i + 1] == "{" {
                result += "{"
                i += 2
                continue
            }
            var depthCount = 1
            var j = i + 1
            while j < scalars.count {
                if scalars[j] == "{" { depthCount += 1 }
                if scalars[j] == "}" {
                    depthCount -= 1
                    if depthCount == 0 { break }
                }
                j += 1
            }
            guard j < scalars.count else {
                let message = i + 1 == scalars.count ? "Single '{' encountered in format string" : "expected '}' before end of string"
                throw ChatTemplateError(.value, message)
            }
            result += try replacement(PythonText.string(scalars[(i + 1)..<j]), depth: depth)
            i = j + 1
        }
        return result
    }

    /// One `{field!conversion:spec}`.
    private mutating func replacement(_ field: String, depth: Int) throws -> String {
        var name = field
        var spec = ""
        var conversion: Character?
        if let colon = Self.topLevelIndex(of: ":", in: field) {
            name = String(field[..<colon])
            spec = String(field[field.index(after: colon)...])
        }
        if let bang = name.firstIndex(of: "!") {
            let converter = name[name.index(after: bang)...]
            guard converter.count == 1, let letter = converter.first, "rsa".contains(letter) else {
                throw ChatTemplateError(.value, "Unknown conversion specifier \(converter)")
            }
            conversion = letter
            name = String(name[..<bang])
        }
        var value = try lookup(name)
        switch conversion {
        case "r": value = .string(try pythonRepr(value))
        case "a": value = .string(pythonASCII(try pythonRepr(value)))
        case "s": value = .string(try pythonStr(value))
        default: break
        }
        let expandedSpec = try format(spec, depth: depth + 1)
        return try FormatSpec(expandedSpec).apply(to: value)
    }

    /// Index of `character` outside any `[...]` in a field name.
    private static func topLevelIndex(of character: Character, in field: String) -> String.Index? {
        var inBrackets = false
        var index = field.startIndex
        while index < field.endIndex {
            let current = field[index]
            if current == "[" { inBrackets = true }
            if current == "]" { inBrackets = false }
            if current == character && !inBrackets { return index }
            index = field.index(after: index)
        }
        return nil
    }

    private mutating func lookup(_ field: String) throws -> Value {
        var head = field
        var rest = Substring("")
        if let split = field.firstIndex(where: { $0 == "." || $0 == "[" }) {
            head = String(field[..<split])
            rest = field[split...]
        }
        var value: Value
        if head.isEmpty {
            if numbering == false {
                throw ChatTemplateError(.value, "cannot switch from manual field specification to automatic field numbering")
            }
            numbering = true
            value = try positionalArgument(automaticIndex)
            automaticIndex += 1
        } else if let index = Int(head), head.allSatisfy(\.isNumber) {
            if numbering == true {
                throw ChatTemplateError(.value, "cannot switch from automatic field numbering to manual field specification")
            }
            numbering = false
            value = try positionalArgument(index)
        } else {
            guard let found = keywords[.string(head)] else { throw ChatTemplateError(.value, pythonRepr(head)) }
            value = found
        }
        while let first = rest.first {
            rest = rest.dropFirst()
            if first == "." {
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                value = try renderer.attribute(String(rest[..<end]), of: value)
                rest = rest[end...]
            } else {
                guard let close = rest.firstIndex(of: "]") else { throw ChatTemplateError(.value, "Missing ']' in format string") }
                let key = String(rest[..<close])
                value = try renderer.item(Int(key).map(Value.int) ?? .string(key), of: value)
                rest = rest[rest.index(after: close)...]
            }
        }
        return value
    }

    private func positionalArgument(_ index: Int) throws -> Value {
        guard index < positional.count else { throw ChatTemplateError(.value, "tuple index out of range") }
        return positional[index]
    }
}
