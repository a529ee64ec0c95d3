extension Tokenizer {
    /// The bytes a token adds to the output, before any UTF-8 decoding: what a grammar engine
    /// matches tokens by. Nil for special tokens (BOS, EOS, `<|im_start|>`), which are not text.
    ///
    /// Byte-level tokens give the bytes of their alphabet code points (so a token holding half
    /// of a UTF-8 sequence gives exactly those bytes); SentencePiece tokens give their text with
    /// `▁` as a space, and `<0xXX>` tokens their one byte. Added tokens that are not special give
    /// their content.
    public func tokenBytes(_ id: Int32) -> [UInt8]? {
        guard !isSpecial(id), let token = tokenString(id) else { return nil }
        if addedTokens[id] != nil { return Array(token.utf8) }
        return decoder?.rawBytes(of: token) ?? Array(token.utf8)
    }

    /// `tokenBytes` of every id below `vocabularySize`.
    public func allTokenBytes() -> [[UInt8]?] {
        (0..<Int32(vocabularySize)).map(tokenBytes)
    }
}

extension TokenDecoder {
    /// One token's bytes through the steps of this decoder that map tokens to bytes; the steps
    /// that only join or trim the whole output (fuse, the first token's strip) are left out.
    func rawBytes(of token: String) -> [UInt8] {
        switch self {
        case .sequence(let steps):
            var text = token
            for step in steps {
                switch step {
                case .byteLevel: return ByteLevelAlphabet.bytes(of: text)
                case .byteFallback: if let byte = Self.byteToken(text) { return [byte] }
                case .replace: text = step.decodeChain([text]).joined()
                case .metaspace(let replacement, _): text = Self.spaces(for: replacement, in: text)
                case .sequence: return step.rawBytes(of: text)
                case .fuse, .strip: break
                }
            }
            return Array(text.utf8)
        case .byteLevel:
            return ByteLevelAlphabet.bytes(of: token)
        case .byteFallback:
            return Self.byteToken(token).map { [$0] } ?? Array(token.utf8)
        case .replace:
            return Array(decodeChain([token]).joined().utf8)
        case .metaspace(let replacement, _):
            return Array(Self.spaces(for: replacement, in: token).utf8)
        case .fuse, .strip:
            return Array(token.utf8)
        }
    }

    /// `token` with every `replacement` scalar turned back into a space (in every position: a
    /// token's own bytes, not the first-token rule of the whole output).
    private static func spaces(for replacement: Unicode.Scalar, in token: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in token.unicodeScalars { scalars.append(scalar == replacement ? " " : scalar) }
        return String(scalars)
    }
}
