/// The split regexes of byte-level BPE tokenizers, as hand-written scanners over Unicode scalars.
///
/// Each scanner reproduces the leftmost-first alternation of its regex exactly (Oniguruma, as HF
/// tokenizers runs it), including the backtracking of `\s+(?!\S)` and `\s*[\r\n]+`. Every pattern
/// matches at every position, so the matches tile the text.
enum SplitPattern: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// Qwen2: Llama 3's pattern with `\p{N}` (one digit) instead of `\p{N}{1,3}`.
    case qwen2

    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a regex as tokenizer.json spells it; nil for a regex Tern does not know.
    init?(regex: String) {
        switch regex {
        case Self.gpt2Regex: self = .gpt2
        case Self.llama3Regex: self = .llama3
        case Self.qwen2Regex: self = .qwen2
        default: return nil
        }
    }

    /// The end of each match, in order; the matches tile `scalars` (the first starts at 0).
    func matchEnds(in scalars: [Unicode.Scalar]) -> [Int] {
        let classes = scalars.map(ScalarClass.init)
        var ends: [Int] = []
        ends.reserveCapacity(scalars.count / 3 + 1)
        var position = 0
        while position < scalars.count {
            position =
                switch self {
                case .gpt2: Self.gpt2Match(scalars, classes, at: position)
                case .llama3: Self.llama3Match(scalars, classes, at: position, maxDigits: 3)
                case .qwen2: Self.llama3Match(scalars, classes, at: position, maxDigits: 1)
                }
            ends.append(position)
        }
        return ends
    }

    private static func gpt2Match(_ s: [Unicode.Scalar], _ c: [ScalarClass], at i: Int) -> Int {
        if let end = contraction(s, at: i, ignoringCase: false) { return end }
        // ` ?\p{L}+`, ` ?\p{N}+` and ` ?[^\s\p{L}\p{N}]+`: a space binds to the run after it.
        let body = s[i] == " " && i + 1 < s.count ? i + 1 : i
        if c[body] != .whitespace { return run(of: c[body], in: c, from: body) }
        return whitespaceMatch(c, at: i)
    }

    private static func llama3Match(_ s: [Unicode.Scalar], _ c: [ScalarClass], at i: Int, maxDigits: Int) -> Int {
        let n = s.count
        if let end = contraction(s, at: i, ignoringCase: true) { return end }
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if c[i] == .letter { return run(of: .letter, in: c, from: i) }
        if c[i] != .number, !isLineBreak(s[i]), i + 1 < n, c[i + 1] == .letter {
            return run(of: .letter, in: c, from: i + 1)
        }
        // `\p{N}{1,3}` or `\p{N}`
        if c[i] == .number { return min(run(of: .number, in: c, from: i), i + maxDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let body = s[i] == " " && i + 1 < n ? i + 1 : i
        if c[body] == .other {
            var end = run(of: .other, in: c, from: body)
            while end < n, isLineBreak(s[end]) { end += 1 }
            return end
        }
        // `\s*[\r\n]+`: the whitespace run up to and including its last line break.
        let runEnd = run(of: .whitespace, in: c, from: i)
        if let lastBreak = (i..<runEnd).last(where: { isLineBreak(s[$0]) }) { return lastBreak + 1 }
        return whitespaceMatch(c, at: i)
    }

    /// `\s+(?!\S)|\s+` at a whitespace scalar: a run that is followed by a non-space gives up its
    /// last scalar to it (so `"  x"` splits as `" "`, `" x"`), unless the run is one scalar long.
    private static func whitespaceMatch(_ c: [ScalarClass], at i: Int) -> Int {
        let end = run(of: .whitespace, in: c, from: i)
        if end == c.count || end - i == 1 { return end }
        return end - 1
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, optionally case-insensitive (where `ſ` folds to `s`).
    private static func contraction(_ s: [Unicode.Scalar], at i: Int, ignoringCase: Bool) -> Int? {
        guard s[i] == "'", i + 1 < s.count else { return nil }
        let first = folded(s[i + 1], ignoringCase)
        if first == "s" || first == "t" || first == "m" || first == "d" { return i + 2 }
        guard i + 2 < s.count else { return nil }
        let second = folded(s[i + 2], ignoringCase)
        switch (first, second) {
        case ("r", "e"), ("v", "e"), ("l", "l"): return i + 3
        default: return nil
        }
    }

    private static func folded(_ scalar: Unicode.Scalar, _ ignoringCase: Bool) -> Unicode.Scalar {
        guard ignoringCase else { return scalar }
        if ("A"..."Z").contains(scalar) { return Unicode.Scalar(scalar.value + 32)! }
        return scalar == "\u{017F}" ? "s" : scalar
    }

    @inline(__always)
    private static func run(of kind: ScalarClass, in c: [ScalarClass], from start: Int) -> Int {
        var end = start
        while end < c.count, c[end] == kind { end += 1 }
        return end
    }

    @inline(__always)
    private static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\n" || scalar == "\r"
    }
}

/// The classes the split regexes distinguish: `\p{L}`, `\p{N}`, `\s` (White_Space) and the rest.
enum ScalarClass: UInt8, Sendable {
    case letter, number, whitespace, other

    private static let ascii: [ScalarClass] = (0..<128).map { ScalarClass(classifying: Unicode.Scalar(UInt8($0))) }

    @inline(__always)
    init(_ scalar: Unicode.Scalar) {
        self = scalar.value < 128 ? Self.ascii[Int(scalar.value)] : ScalarClass(classifying: scalar)
    }

    private init(classifying scalar: Unicode.Scalar) {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = properties.isWhitespace ? .whitespace : .other
        }
    }
}
