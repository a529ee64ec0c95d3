/// Regular expressions (the subset of Python's `re` and JavaScript's syntax that constraints
/// use) compiled into grammar rules: literals and escapes (`\d \w \s \D \W \S`, `\xHH`,
/// `\uHHHH`), classes with ranges and negation, `.`, groups (capturing, `(?:`, named),
/// alternation, and the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms match the same strings).
/// Backreferences, lookaround and word boundaries cannot be expressed without context and are
/// refused by name.
struct RegexCompiler {
    indirect enum Node {
        case chars([ClosedRange<UInt32>])
        case sequence([Node])
        case alternation([Node])
        case repetition(Node, min: Int, max: Int?)
        /// `^` or `$`.
        case anchor
    }

    /// Counted repetitions above this are too large to unroll.
    static let maxCount = 1000

    private let scalars: [Unicode.Scalar]
    private var position = 0

    private init(_ pattern: String) {
        scalars = Array(pattern.unicodeScalars)
    }

    /// The syntax tree of `pattern`.
    static func parse(_ pattern: String) throws -> Node {
        var parser = RegexCompiler(pattern)
        let node = try parser.alternation()
        guard parser.position == parser.scalars.count else { throw parser.error("unbalanced ')'") }
        return node
    }

    private func error(_ problem: String) -> StructuredOutputError {
        StructuredOutputError("invalid regular expression at offset \(position): \(problem)")
    }

    private var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func alternation() throws -> Node {
        var branches = [try sequence()]
        while peek == "|" {
            position += 1
            branches.append(try sequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence() throws -> Node {
        var items: [Node] = []
        while let next = peek, next != "|", next != ")" {
            var atom = try self.atom()
            atom = try quantified(atom)
            items.append(atom)
        }
        return .sequence(items)
    }

    private mutating func quantified(_ atom: Node) throws -> Node {
        var node = atom
        while let next = peek {
            let bounds: (Int, Int?)
            switch next {
            case "*": bounds = (0, nil); position += 1
            case "+": bounds = (1, nil); position += 1
            case "?": bounds = (0, 1); position += 1
            case "{":
                guard let counted = try counts() else { return node }
                bounds = counted
            default: return node
            }
            if case .anchor = node { throw error("a quantifier after an anchor") }
            node = .repetition(node, min: bounds.0, max: bounds.1)
            if peek == "?" || peek == "+" { position += 1 }  // lazy or possessive: same strings
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`; nil (and nothing consumed) when `{` is a literal brace.
    private mutating func counts() throws -> (Int, Int?)? {
        let start = position
        position += 1
        func number() -> Int? {
            var digits = ""
            while let next = peek, ("0"..."9").contains(next) { digits.unicodeScalars.append(next); position += 1 }
            return digits.isEmpty ? nil : Int(digits)
        }
        guard let low = number() else { position = start; return nil }
        var high: Int? = low
        if peek == "," {
            position += 1
            high = number()
        }
        guard peek == "}" else { position = start; return nil }
        position += 1
        if let high, high < low { throw error("{\(low),\(high)} has max below min") }
        guard low <= Self.maxCount, (high ?? 0) <= Self.maxCount else {
            throw error("repetition counts above \(Self.maxCount) are not supported")
        }
        return (low, high)
    }

    private mutating func atom() throws -> Node {
        guard let next = peek else { throw error("unexpected end") }
        position += 1
        switch next {
        case "(":
            if peek == "?" {
                position += 1
                switch peek {
                case ":": position += 1
                case "P" where position + 1 < scalars.count && scalars[position + 1] == "<":
                    try skipGroupName(from: position + 2)
                case "<" where position + 1 < scalars.count && scalars[position + 1] != "=" && scalars[position + 1] != "!":
                    try skipGroupName(from: position + 1)
                case "=", "!", "<": throw error("lookaround assertions are not supported")
                default: throw error("unsupported group (?\(peek.map(String.init) ?? "")")
                }
            }
            let inner = try alternation()
            guard peek == ")" else { throw error("missing ')'") }
            position += 1
            return inner
        case ")": throw error("unbalanced ')'")
        case "[": return .chars(try characterClass())
        case ".": return .chars(UTF8Classes.complement([10...10]))
        case "^", "$": return .anchor
        case "\\": return .chars(try escape(inClass: false))
        case "*", "+", "?": throw error("nothing to repeat")
        default: return .chars([next.value...next.value])
        }
    }

    private mutating func skipGroupName(from start: Int) throws {
        position = start
        while let next = peek, next != ">" { position += 1 }
        guard peek == ">" else { throw error("unterminated group name") }
        position += 1
    }

    private mutating func characterClass() throws -> [ClosedRange<UInt32>] {
        var negated = false
        if peek == "^" {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard let next = peek else { throw error("unterminated character class") }
            if next == "]" && !first { position += 1; break }
            first = false
            position += 1
            var low: [ClosedRange<UInt32>]
            if next == "\\" {
                low = try escape(inClass: true)
            } else if next == "[" && peek == ":" {
                throw error("POSIX classes like [:alpha:] are not supported")
            } else {
                low = [next.value...next.value]
            }
            if peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]", low.count == 1,
               low[0].lowerBound == low[0].upperBound {
                position += 1
                let endScalar = scalars[position]
                position += 1
                let high = endScalar == "\\" ? try escape(inClass: true) : [endScalar.value...endScalar.value]
                guard high.count == 1, high[0].lowerBound == high[0].upperBound, high[0].lowerBound >= low[0].lowerBound else {
                    throw error("bad range in a character class")
                }
                low = [low[0].lowerBound...high[0].lowerBound]
            }
            ranges += low
        }
        return negated ? UTF8Classes.complement(ranges) : UTF8Classes.normalized(ranges)
    }

    /// Python's `\\d`, `\\w` and `\\s` (Unicode, as `re` matches `str` patterns, the reference
    /// the outputs are checked with): decimal digits; letters, digits and `_`; whitespace. Each
    /// class and its complement hold only scalars assigned by Unicode 14.0 (Python 3.11's
    /// tables): a scalar assigned later is a digit to one Python and not to another (U+1CCF0
    /// is a digit from Unicode 16.0 on), so no output carries one where a class decides.
    static let digit = scalarRanges { stable($0) && isDigit($0) }
    static let notDigit = scalarRanges { stable($0) && !isDigit($0) }
    static let word = scalarRanges { stable($0) && isWord($0) }
    static let notWord = scalarRanges { stable($0) && !isWord($0) }
    static let space = scalarRanges { stable($0) && isSpace($0) }
    static let notSpace = scalarRanges { stable($0) && !isSpace($0) }

    private static func stable(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 14 || (age.major == 14 && age.minor == 0)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.numericType == .decimal }

    private static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        let letters: Set<Unicode.GeneralCategory> = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter,
                                                     .otherLetter]
        return scalar == "_" || letters.contains(scalar.properties.generalCategory) || scalar.properties.numericType != nil
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// The ranges of scalars with `property`, found once by looking at every scalar.
    private static func scalarRanges(_ property: (Unicode.Scalar) -> Bool) -> [ClosedRange<UInt32>] {
        var ranges: [ClosedRange<UInt32>] = []
        var start: UInt32?
        for value in UInt32(0)...UTF8Classes.maxScalar + 1 {
            let inside = value <= UTF8Classes.maxScalar && Unicode.Scalar(value).map(property) == true
            if inside, start == nil { start = value }
            if !inside, let first = start {
                ranges.append(first...value - 1)
                start = nil
            }
        }
        return ranges
    }

    private mutating func escape(inClass: Bool) throws -> [ClosedRange<UInt32>] {
        guard let next = peek else { throw error("trailing backslash") }
        position += 1
        func scalar(_ value: UInt32) -> [ClosedRange<UInt32>] { [value...value] }
        switch next {
        case "d": return Self.digit
        case "D": return Self.notDigit
        case "w": return Self.word
        case "W": return Self.notWord
        case "s": return Self.space
        case "S": return Self.notSpace
        case "n": return scalar(10)
        case "t": return scalar(9)
        case "r": return scalar(13)
        case "f": return scalar(12)
        case "v": return scalar(11)
        case "0": return scalar(0)
        case "x": return scalar(try hex(count: 2))
        case "u":
            if peek == "{" {
                position += 1
                var value: UInt32 = 0
                while let digit = peek, digit != "}" {
                    guard let v = UInt32(String(digit), radix: 16) else { throw error("bad \\u{...} escape") }
                    value = value * 16 + v
                    position += 1
                }
                position += 1
                return scalar(value)
            }
            return scalar(try hex(count: 4))
        case "b" where inClass: return scalar(8)
        case "b", "B": throw error("word boundaries (\\b, \\B) are not supported")
        case "A", "Z", "z": throw error("anchors like \\\(next) are not supported")
        case "1"..."9": throw error("backreferences are not supported")
        case "p", "P": throw error("Unicode property classes (\\p{...}) are not supported")
        default:
            if next.properties.isAlphabetic { throw error("unknown escape \\\(next)") }
            return scalar(next.value)
        }
    }

    private mutating func hex(count: Int) throws -> UInt32 {
        guard position + count <= scalars.count,
              let value = UInt32(String(String.UnicodeScalarView(scalars[position..<position + count])), radix: 16)
        else { throw error("bad hex escape") }
        position += count
        return value
    }
}

extension GrammarBuilder {
    /// How a regex's characters are spelled in the output.
    enum RegexSpelling {
        /// As themselves (a `regex` constraint).
        case raw
        /// Inside a JSON string: `"`, `\` and control characters as escapes (a schema `pattern`).
        case jsonString
    }

    /// The items matching `node`; with `.jsonString`, the characters are spelled as a JSON
    /// string's contents.
    mutating func items(for node: RegexCompiler.Node, spelling: RegexSpelling, name: String) -> [Item] {
        switch node {
        case .anchor:
            return []
        case .chars(let ranges):
            return [characterItem(ranges, spelling: spelling, name: name)]
        case .sequence(let nodes):
            return nodes.flatMap { items(for: $0, spelling: spelling, name: name) }
        case .alternation(let nodes):
            let alternatives = nodes.map { items(for: $0, spelling: spelling, name: name) }
            return [.rule(rule(name + "|", alternatives))]
        case .repetition(let inner, let min, let max):
            let body = items(for: inner, spelling: spelling, name: name)
            let item = body.count == 1 ? body[0] : .rule(rule(name + "()", [body]))
            return repeated(item, min: min, max: max, name: name)
        }
    }

    private mutating func characterItem(_ ranges: [ClosedRange<UInt32>], spelling: RegexSpelling, name: String) -> Item {
        guard spelling == .jsonString else { return characterClass(ranges, name: name) }
        let specials: [(UInt32, String)] = [(0x22, "\\\""), (0x5C, "\\\\"), (0x0A, "\\n"), (0x09, "\\t"), (0x0D, "\\r")]
        let unsafe: [ClosedRange<UInt32>] = [0...0x1F, 0x22...0x22, 0x5C...0x5C]
        let safe = UTF8Classes.complement(UTF8Classes.complement(ranges) + unsafe)
        var alternatives: [[Item]] = safe.isEmpty ? [] : [[characterClass(safe, name: name)]]
        for (scalar, escape) in specials where ranges.contains(where: { $0.contains(scalar) }) {
            alternatives.append(Self.literal(escape))
        }
        return .rule(rule(name + " char", alternatives))
    }
}
