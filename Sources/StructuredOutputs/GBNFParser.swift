/// llama.cpp's GBNF grammars (`root ::= ...`): rules of alternatives (`|`) of sequences of
/// literals (`"..."` with `\n \t \r \\ \" \xHH \uHHHH \UHHHHHHHH` escapes), character classes
/// (`[a-z]`, `[^"\\]`), rule names, groups, `.` (any character), and the postfixes `* + ?
/// {m} {m,} {m,n}`; `#` starts a comment. A rule may span lines; a new rule starts where a
/// name is followed by `::=`. Errors give the line and column.
struct GBNFParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var builder = GrammarBuilder()
    private var ruleIDs: [String: Int] = [:]
    private var defined: Set<String> = []

    private init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// The grammar `text` describes, starting at its `root` rule.
    static func parse(_ text: String) throws -> Grammar {
        var parser = GBNFParser(text)
        try parser.parseRules()
        guard let root = parser.ruleIDs["root"], parser.defined.contains("root") else {
            throw StructuredOutputError("invalid grammar: there is no rule named root")
        }
        if let missing = parser.ruleIDs.keys.sorted().first(where: { !parser.defined.contains($0) }) {
            throw StructuredOutputError("invalid grammar: the rule \(missing) is used but never defined")
        }
        return try parser.builder.build(root: root)
    }

    private func error(_ problem: String) -> StructuredOutputError {
        var line = 1
        var column = 1
        for scalar in scalars[..<min(position, scalars.count)] {
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return StructuredOutputError("invalid grammar at line \(line), column \(column): \(problem)")
    }

    private var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    /// Skips spaces, newlines and comments.
    private mutating func skipSpace() {
        while let next = peek {
            if next == "#" {
                while let c = peek, c != "\n" { _ = c; position += 1 }
            } else if next == " " || next == "\t" || next == "\n" || next == "\r" {
                position += 1
            } else {
                return
            }
        }
    }

    private static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
            || scalar == "_"
    }

    private mutating func name() -> String? {
        var text = ""
        while let next = peek, Self.isNameScalar(next) {
            text.unicodeScalars.append(next)
            position += 1
        }
        return text.isEmpty ? nil : text
    }

    /// Whether a rule definition (`name ::=`) starts here.
    private func atRuleStart() -> Bool {
        var index = position
        while index < scalars.count, Self.isNameScalar(scalars[index]) { index += 1 }
        guard index > position else { return false }
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        return index + 2 < scalars.count && scalars[index] == ":" && scalars[index + 1] == ":" && scalars[index + 2] == "="
    }

    private mutating func ruleID(_ name: String) -> Int {
        if let id = ruleIDs[name] { return id }
        let id = builder.declare(name)
        ruleIDs[name] = id
        return id
    }

    private mutating func parseRules() throws {
        skipSpace()
        while peek != nil {
            guard let name = name() else { throw error("expected a rule name") }
            skipSpace()
            guard position + 2 < scalars.count, scalars[position] == ":", scalars[position + 1] == ":",
                  scalars[position + 2] == "=" else { throw error("expected ::= after \(name)") }
            position += 3
            guard defined.insert(name).inserted else { throw error("the rule \(name) is defined twice") }
            let alternatives = try self.alternatives(nested: false)
            builder.define(ruleID(name), alternatives)
            skipSpace()
        }
    }

    private mutating func alternatives(nested: Bool) throws -> [[GrammarBuilder.Item]] {
        var result = [try sequence(nested: nested)]
        while peek == "|" {
            position += 1
            result.append(try sequence(nested: nested))
        }
        return result
    }

    private mutating func sequence(nested: Bool) throws -> [GrammarBuilder.Item] {
        var items: [GrammarBuilder.Item] = []
        while true {
            skipSpace()
            guard let next = peek else { return items }
            if next == "|" { return items }
            if next == ")" {
                if nested { return items }
                throw error("unbalanced ')'")
            }
            if !nested, atRuleStart() { return items }
            var term = try self.term()
            term = try postfix(term)
            items += term
        }
    }

    private mutating func term() throws -> [GrammarBuilder.Item] {
        guard let next = peek else { throw error("unexpected end") }
        switch next {
        case "\"":
            position += 1
            var bytes: [UInt8] = []
            while true {
                guard let c = peek else { throw error("unterminated string literal") }
                if c == "\"" { position += 1; break }
                if c == "\n" { throw error("newline in a string literal") }
                let scalar = try character()
                bytes += UTF8Classes.encode(scalar.value)
            }
            return bytes.map { .bytes(.byte($0)) }
        case "[":
            position += 1
            var negated = false
            if peek == "^" { negated = true; position += 1 }
            var ranges: [ClosedRange<UInt32>] = []
            while true {
                guard let c = peek else { throw error("unterminated character class") }
                if c == "]" { position += 1; break }
                let low = try character()
                var high = low
                if peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]" {
                    position += 1
                    high = try character()
                    guard high.value >= low.value else { throw error("bad range in a character class") }
                }
                ranges.append(low.value...high.value)
            }
            let set = negated ? UTF8Classes.complement(ranges) : ranges
            guard !set.isEmpty else { throw error("empty character class") }
            return [builder.characterClass(set, name: "class")]
        case "(":
            position += 1
            let alternatives = try self.alternatives(nested: true)
            skipSpace()
            guard peek == ")" else { throw error("missing ')'") }
            position += 1
            return [.rule(builder.rule("group", alternatives))]
        case ".":
            position += 1
            return [builder.characterClass([0...UTF8Classes.maxScalar], name: "any")]
        default:
            guard let name = name() else { throw error("unexpected character '\(next)'") }
            return [.rule(ruleID(name))]
        }
    }

    /// One character of a literal or class, escapes decoded.
    private mutating func character() throws -> Unicode.Scalar {
        guard let c = peek else { throw error("unexpected end") }
        position += 1
        guard c == "\\" else { return c }
        guard let escape = peek else { throw error("trailing backslash") }
        position += 1
        switch escape {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "\\", "\"", "[", "]", "-", "^": return escape
        case "x", "u", "U":
            let count = escape == "x" ? 2 : escape == "u" ? 4 : 8
            guard position + count <= scalars.count,
                  let value = UInt32(String(String.UnicodeScalarView(scalars[position..<position + count])), radix: 16),
                  let scalar = Unicode.Scalar(value)
            else { throw error("bad \\\(escape) escape") }
            position += count
            return scalar
        default: throw error("unknown escape \\\(escape)")
        }
    }

    private mutating func postfix(_ term: [GrammarBuilder.Item]) throws -> [GrammarBuilder.Item] {
        var current = term
        while let next = peek {
            let bounds: (Int, Int?)
            switch next {
            case "*": bounds = (0, nil); position += 1
            case "+": bounds = (1, nil); position += 1
            case "?": bounds = (0, 1); position += 1
            case "{":
                position += 1
                func number() -> Int? {
                    var digits = ""
                    while let d = peek, ("0"..."9").contains(d) { digits.unicodeScalars.append(d); position += 1 }
                    return digits.isEmpty ? nil : Int(digits)
                }
                skipSpace()
                guard let low = number() else { throw error("expected a count in {}") }
                var high: Int? = low
                skipSpace()
                if peek == "," {
                    position += 1
                    skipSpace()
                    high = number()
                }
                skipSpace()
                guard peek == "}" else { throw error("expected }") }
                position += 1
                if let high, high < low { throw error("{\(low),\(high)} has max below min") }
                guard low <= RegexCompiler.maxCount, (high ?? 0) <= RegexCompiler.maxCount else {
                    throw error("repetition counts above \(RegexCompiler.maxCount) are not supported")
                }
                bounds = (low, high)
            default:
                return current
            }
            let item: GrammarBuilder.Item = current.count == 1 ? current[0] : .rule(builder.rule("term", [current]))
            current = builder.repeated(item, min: bounds.0, max: bounds.1, name: "term")
        }
        return current
    }
}
