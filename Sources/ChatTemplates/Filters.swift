/// jinja2's built-in filters (with transformers' `tojson`), each following jinja2's
/// `filters.py`: the same parameters, defaults, return types (some return one-pass iterators,
/// as jinja2's generators do) and errors. Sequence filters are in `Filters+Sequences.swift`.
enum Filters {
    typealias Filter = @Sendable (Value, Arguments, Renderer) throws -> Value

    static let table: [String: Filter] = textFilters.merging(sequenceFilters) { first, _ in first }

    /// jinja2 filters this interpreter does not implement; naming one is a clear error.
    static let unsupported: Set<String> = [
        "filesizeformat", "groupby", "pprint", "random", "striptags", "urlencode", "urlize", "wordwrap", "xmlattr",
    ]

    static func isKnown(_ name: String) -> Bool {
        table[name] != nil || unsupported.contains(name)
    }

    /// Runs filter `name`; `byName` is for filters named by a string (`map('upper')`), whose
    /// unknown-filter message jinja2 words slightly differently.
    static func apply(
        _ name: String, to value: Value, _ arguments: Arguments, renderer: Renderer, byName: Bool = false
    ) throws -> Value {
        guard let filter = table[name] else {
            if unsupported.contains(name) {
                throw ChatTemplateError(.unsupported, "the \(pythonRepr(name)) filter")
            }
            throw ChatTemplateError(.syntax, "No filter named \(pythonRepr(name))\(byName ? "" : " found").")
        }
        return try filter(value, arguments, renderer)
    }

    /// Parameters bound by name, with nil for those not given.
    static func bind(_ arguments: Arguments, _ names: [String], _ filter: String) throws -> [Value?] {
        try arguments.bind(names, function: "do_\(filter)")
    }

    static func requireInt(_ value: Value, _ filter: String) throws -> Int {
        guard let number = value.integerPayload else {
            if case .double(let double) = value, let truncated = Int(exactly: double.rounded(.towardZero)) { return truncated }
            throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object cannot be interpreted as an integer")
        }
        return number
    }

    private static let textFilters: [String: Filter] = [
        "abs": { value, arguments, _ in
            _ = try bind(arguments, [], "abs")
            if let number = value.integerPayload {
                guard number != .min else { throw ChatTemplateError(.value, "integer overflow: the result does not fit in 64 bits") }
                return .int(abs(number))
            }
            if case .double(let number) = value { return .double(abs(number)) }
            throw ChatTemplateError(.type, "bad operand type for abs(): \(pythonRepr(pythonTypeName(value)))")
        },
        "capitalize": { value, arguments, _ in
            _ = try bind(arguments, [], "capitalize")
            return keepingMarkup(value, PythonText.capitalize(try pythonStr(value)))
        },
        "center": { value, arguments, _ in
            let width = try bind(arguments, ["width"], "center")[0].map { try requireInt($0, "center") } ?? 80
            let text = try pythonStr(value)
            let length = PythonText.length(text)
            guard width > length else { return keepingMarkup(value, text) }
            let margin = width - length
            let left = margin / 2 + (margin & width & 1)
            return keepingMarkup(value, String(repeating: " ", count: left) + text + String(repeating: " ", count: margin - left))
        },
        "default": defaultFilter,
        "d": defaultFilter,
        "escape": escape,
        "e": escape,
        "forceescape": { value, arguments, _ in
            _ = try bind(arguments, [], "forceescape")
            return .markup(HTML.escape(try pythonStr(value)))
        },
        "float": { value, arguments, _ in
            let fallback = try bind(arguments, ["default"], "float")[0] ?? .double(0)
            switch value {
            case .undefined(let undefined): throw undefined.error
            case .double: return value
            case .int, .bool: return .double(value.numberPayload!)
            case .string(let text), .markup(let text): return PythonNumber.parseDouble(text).map(Value.double) ?? fallback
            default: return fallback
            }
        },
        "format": { value, arguments, _ in
            if !arguments.positional.isEmpty && !arguments.keywords.isEmpty {
                throw ChatTemplateError(.type, "can't handle positional and keyword arguments at the same time")
            }
            var mapping = ValueDictionary()
            for (name, item) in arguments.keywords { mapping.set(name, item) }
            let operand: Value = arguments.keywords.isEmpty ? .tuple(arguments.positional) : .dict(mapping)
            return .string(try PrintfFormat.format(try pythonStr(value), operand))
        },
        "indent": { value, arguments, _ in
            let bound = try bind(arguments, ["width", "first", "blank"], "indent")
            let indentation: String
            switch bound[0] ?? .int(4) {
            case .string(let text), .markup(let text): indentation = text
            case let width: indentation = String(repeating: " ", count: max(0, try requireInt(width, "indent")))
            }
            if case .undefined(let undefined) = value { throw undefined.error }
            if case .list = value { throw ChatTemplateError(.type, "'list' object has no attribute 'splitlines'") }
            if case .tuple = value { throw ChatTemplateError(.type, "can only concatenate tuple (not \"str\") to tuple") }
            guard let text = value.stringPayload else {
                throw ChatTemplateError(.type, "unsupported operand type(s) for +=: \(pythonRepr(pythonTypeName(value))) and 'str'")
            }
            var lines = PythonText.splitLines(text + "\n")
            var result: String
            if bound[2]?.isTruthy ?? false {
                result = lines.joined(separator: "\n" + indentation)
            } else {
                result = lines.removeFirst()
                if !lines.isEmpty {
                    result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
                }
            }
            if bound[1]?.isTruthy ?? false { result = indentation + result }
            return .string(result)
        },
        "int": { value, arguments, _ in
            let bound = try bind(arguments, ["default", "base"], "int")
            let fallback = bound[0] ?? .int(0)
            let base = try bound[1].map { try requireInt($0, "int") } ?? 10
            switch value {
            case .undefined(let undefined): throw undefined.error
            case .int, .bool: return .int(value.integerPayload!)
            case .double(let number):
                if number.isInfinite { throw ChatTemplateError(.value, "cannot convert float infinity to integer") }
                if number.isNaN { return fallback }
                guard let truncated = Int(exactly: number.rounded(.towardZero)) else {
                    throw ChatTemplateError(.value, "integer overflow: \(PythonNumber.repr(number)) does not fit in 64 bits")
                }
                return .int(truncated)
            case .string(let text), .markup(let text):
                if let number = PythonNumber.parseInt(text, base: base) { return .int(number) }
                if let number = PythonNumber.parseDouble(text), number.isFinite,
                   let truncated = Int(exactly: number.rounded(.towardZero)) {
                    return .int(truncated)
                }
                return fallback
            default:
                return fallback
            }
        },
        "lower": { value, arguments, _ in
            _ = try bind(arguments, [], "lower")
            return keepingMarkup(value, PythonText.lower(try pythonStr(value)))
        },
        "upper": { value, arguments, _ in
            _ = try bind(arguments, [], "upper")
            return keepingMarkup(value, PythonText.upper(try pythonStr(value)))
        },
        "replace": { value, arguments, _ in
            let bound = try bind(arguments, ["old", "new", "count"], "replace")
            guard let old = bound[0], let new = bound[1] else {
                throw ChatTemplateError(.type, "do_replace() missing required arguments 'old' and 'new'")
            }
            let count = try bound[2].flatMap { $0.isNone ? nil : try requireInt($0, "replace") } ?? -1
            return .string(PythonText.replace(try pythonStr(value), try pythonStr(old), try pythonStr(new), count: count))
        },
        "round": { value, arguments, _ in
            let bound = try bind(arguments, ["precision", "method"], "round")
            let precision = try bound[0].map { try requireInt($0, "round") } ?? 0
            let method = bound[1]?.stringPayload ?? "common"
            guard ["common", "ceil", "floor"].contains(method) else {
                throw ChatTemplateError(.value, "method must be common, ceil or floor")
            }
            guard let number = value.numberPayload else {
                throw ChatTemplateError(.type, "type \(pythonTypeName(value)) doesn't define __round__ method")
            }
            if method == "common" {
                if let integer = value.integerPayload {
                    guard precision < 0 else { return .int(integer) }
                    return .int(Int(PythonNumber.round(Double(integer), digits: precision)))
                }
                return .double(PythonNumber.round(number, digits: precision))
            }
            let scale = Double.pow10(precision)
            let scaled = number * scale
            return .double((method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)) / scale)
        },
        "safe": { value, arguments, _ in
            _ = try bind(arguments, [], "safe")
            if case .markup = value { return value }
            return .markup(try pythonStr(value))
        },
        "string": { value, arguments, _ in
            _ = try bind(arguments, [], "string")
            if case .markup = value { return value }
            return .string(try pythonStr(value))
        },
        "title": { value, arguments, _ in
            _ = try bind(arguments, [], "title")
            return .string(jinjaTitle(try pythonStr(value)))
        },
        "tojson": { value, arguments, _ in
            let bound = try bind(arguments, ["ensure_ascii", "indent", "separators", "sort_keys"], "tojson")
            var encoder = PythonJSON()
            encoder.ensureASCII = bound[0]?.isTruthy ?? false
            switch bound[1] ?? .none {
            case .none: encoder.indent = nil
            case .string(let text), .markup(let text): encoder.indent = text
            case let width: encoder.indent = String(repeating: " ", count: max(0, try requireInt(width, "tojson")))
            }
            if encoder.indent != nil { encoder.itemSeparator = "," }
            if let separators = bound[2], !separators.isNone {
                guard case .list(let pair) = separators.asSequence, pair.count == 2,
                      let item = pair[0].stringPayload, let key = pair[1].stringPayload
                else { throw ChatTemplateError(.type, "separators must be a pair of strings") }
                encoder.itemSeparator = item
                encoder.keySeparator = key
            }
            encoder.sortKeys = bound[3]?.isTruthy ?? false
            return .string(try encoder.dumps(value))
        },
        "trim": { value, arguments, _ in
            let characters = try bind(arguments, ["chars"], "trim")[0]
            let set = try characters.flatMap { $0.isNone ? nil : try pythonStr($0) }
            return keepingMarkup(value, PythonText.strip(try pythonStr(value), set))
        },
        "truncate": { value, arguments, renderer in
            let bound = try bind(arguments, ["length", "killwords", "end", "leeway"], "truncate")
            let length = try bound[0].map { try requireInt($0, "truncate") } ?? 255
            let end = try bound[2].map { try pythonStr($0) } ?? "..."
            let leeway = try bound[3].flatMap { $0.isNone ? nil : try requireInt($0, "truncate") } ?? 5
            let endLength = PythonText.length(end)
            guard length >= endLength else {
                throw ChatTemplateError(.value, "expected length >= \(endLength), got \(length)")
            }
            guard leeway >= 0 else { throw ChatTemplateError(.value, "expected leeway >= 0, got \(leeway)") }
            let size = try Filters.apply("length", to: value, Arguments(), renderer: renderer).integerPayload ?? 0
            if size <= length + leeway { return value }
            guard let text = value.stringPayload else {
                throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object has no attribute 'rsplit'")
            }
            let scalars = PythonText.scalars(text)
            let kept = PythonText.string(scalars.prefix(length - endLength))
            if bound[1]?.isTruthy ?? false { return .string(kept + end) }
            return .string((try PythonText.rsplit(kept, separator: " ", maxSplit: 1))[0] + end)
        },
        "wordcount": { value, arguments, _ in
            _ = try bind(arguments, [], "wordcount")
            var count = 0
            var inWord = false
            for scalar in try pythonStr(value).unicodeScalars {
                let isWord = PythonText.isWordCharacter(scalar)
                if isWord && !inWord { count += 1 }
                inWord = isWord
            }
            return .int(count)
        },
    ]

    /// A string result of the same kind as the input: markupsafe's `Markup` methods return `Markup`.
    private static func keepingMarkup(_ input: Value, _ text: String) -> Value {
        if case .markup = input { return .markup(text) }
        return .string(text)
    }

    private static func defaultFilter(_ value: Value, _ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        let bound = try bind(arguments, ["default_value", "boolean"], "default")
        if value.isUndefined || ((bound[1]?.isTruthy ?? false) && !value.isTruthy) {
            return bound[0] ?? .string("")
        }
        return value
    }

    private static func escape(_ value: Value, _ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        _ = try bind(arguments, [], "escape")
        if case .markup = value { return value }
        return .markup(HTML.escape(try pythonStr(value)))
    }

    /// jinja2's `title` filter: upper-cases the first character after each run of `-`,
    /// whitespace, `(`, `{`, `[` or `<`, and lowers the rest.
    static func jinjaTitle(_ text: String) -> String {
        var result = ""
        var word: [Unicode.Scalar] = []
        func flush() {
            if let first = word.first {
                result += PythonText.upper(String(first)) + PythonText.lower(PythonText.string(word.dropFirst()))
            }
            word.removeAll()
        }
        for scalar in text.unicodeScalars {
            if scalar == "-" || isPythonWhitespace(scalar) || "({[<".unicodeScalars.contains(scalar) {
                flush()
                result.unicodeScalars.append(scalar)
            } else {
                word.append(scalar)
            }
        }
        flush()
        return result
    }
}
