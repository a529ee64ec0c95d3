/// A token matched whole in the text before anything else runs: tokenizer.json's `added_tokens`,
/// or a GGUF's control and user-defined tokens.
struct AddedToken: Sendable, Equatable {
    var id: Int32
    var content: String
    /// Matches only where it is not inside a word.
    var singleWord = false
    /// Takes the whitespace on its left (`lstrip`) or right (`rstrip`) with it.
    var lstrip = false
    var rstrip = false
    /// Matched in the normalized text rather than the raw text.
    var normalized = false
    var special = false
}

/// Finds added tokens in text as HF tokenizers' `AddedVocabulary` does: leftmost-longest matches
/// (a trie over Unicode scalars), then `single_word`, `lstrip` and `rstrip` applied to each.
struct AddedTokenMatcher: Sendable {
    enum Segment: Equatable {
        case token(Int32)
        case text(Range<Int>)
    }

    private let tokens: [AddedToken]
    /// Trie edges keyed by (node << 21 | scalar); node 0 is the root.
    private let edges: [UInt64: Int32]
    /// The token (index into `tokens`) ending at each node, or -1.
    private let terminals: [Int32]
    /// Which scalars of the Basic Multilingual Plane begin a pattern, one bit each: most text
    /// positions are rejected here without a dictionary lookup.
    private let firstScalars: [UInt64]

    /// A matcher for `tokens`, each found in text as its `pattern` (the content, or for a token
    /// matched after normalization, the normalized content).
    init(_ tokens: [AddedToken], patterns: [String]) {
        var edges: [UInt64: Int32] = [:]
        var terminals: [Int32] = [-1]
        for (index, pattern) in patterns.enumerated() where !pattern.isEmpty {
            var node: Int32 = 0
            for scalar in pattern.unicodeScalars {
                let key = Self.edgeKey(node, scalar)
                if let child = edges[key] {
                    node = child
                } else {
                    terminals.append(-1)
                    node = Int32(terminals.count - 1)
                    edges[key] = node
                }
            }
            // The first of two tokens with the same pattern wins, as it would in HF.
            if terminals[Int(node)] < 0 { terminals[Int(node)] = Int32(index) }
        }
        var firstScalars = [UInt64](repeating: 0, count: 1024)
        for pattern in patterns {
            guard let first = pattern.unicodeScalars.first, first.value < 0x10000 else { continue }
            firstScalars[Int(first.value >> 6)] |= 1 << (first.value & 63)
        }
        self.tokens = tokens
        self.edges = edges
        self.terminals = terminals
        self.firstScalars = firstScalars
    }

    var isEmpty: Bool { edges.isEmpty }

    /// `scalars` as added tokens and the text between them, in order; empty text is left out.
    func split(_ scalars: [Unicode.Scalar]) -> [Segment] {
        guard !edges.isEmpty else { return scalars.isEmpty ? [] : [.text(0..<scalars.count)] }
        var segments: [Segment] = []
        var textStart = 0
        var searchFrom = 0
        while let (index, matchStart, matchEnd) = leftmostLongest(in: scalars, from: searchFrom) {
            searchFrom = matchEnd
            let token = tokens[index]
            var start = matchStart
            var end = matchEnd
            if token.singleWord {
                let wordBefore = start > 0 && Self.isWordScalar(scalars[start - 1])
                let wordAfter = end < scalars.count && Self.isWordScalar(scalars[end])
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip {
                while start > textStart, scalars[start - 1].properties.isWhitespace { start -= 1 }
            }
            if token.rstrip {
                while end < scalars.count, scalars[end].properties.isWhitespace { end += 1 }
            }
            start = max(start, textStart)
            if textStart < start { segments.append(.text(textStart..<start)) }
            segments.append(.token(token.id))
            textStart = end
            searchFrom = max(searchFrom, end)
        }
        if textStart < scalars.count { segments.append(.text(textStart..<scalars.count)) }
        return segments
    }

    /// The match starting leftmost at or after `from`, the longest of those there.
    private func leftmostLongest(in scalars: [Unicode.Scalar], from: Int) -> (Int, Int, Int)? {
        var start = from
        while start < scalars.count {
            let value = scalars[start].value
            if value < 0x10000, firstScalars[Int(value >> 6)] & (1 << (value & 63)) == 0 {
                start += 1
                continue
            }
            var node: Int32 = 0
            var best: (index: Int32, end: Int)?
            var position = start
            while position < scalars.count, let child = edges[Self.edgeKey(node, scalars[position])] {
                node = child
                position += 1
                if terminals[Int(node)] >= 0 { best = (terminals[Int(node)], position) }
            }
            if let best { return (Int(best.index), start, best.end) }
            start += 1
        }
        return nil
    }

    @inline(__always)
    private static func edgeKey(_ node: Int32, _ scalar: Unicode.Scalar) -> UInt64 {
        UInt64(node) << 21 | UInt64(scalar.value)
    }

    /// Rust regex's Unicode `\w`: alphabetic, marks, decimal digits, connector punctuation and
    /// join controls.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
