/// The decoders of tokenizer.json that Tern implements, each a step over the list of token
/// strings exactly as HF tokenizers' `decode_chain`; the final text is the steps' output joined.
indirect enum TokenDecoder: Sendable, Equatable {
    case sequence([TokenDecoder])
    /// Byte-level: every token's alphabet code points back to bytes (a token outside the alphabet
    /// gives its own UTF-8), then the whole as UTF-8 with U+FFFD for invalid sequences.
    case byteLevel
    case replace(pattern: String, content: String)
    /// Runs of `<0xXX>` tokens become the text of their bytes, or one U+FFFD per byte if invalid.
    case byteFallback
    /// All tokens joined into one.
    case fuse
    /// Removes up to `start` leading and `stop` trailing `content` scalars from each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// `replacement` back to spaces; in the first token it is dropped unless the scheme is never.
    case metaspace(replacement: Unicode.Scalar, prependScheme: PreTokenizer.PrependScheme)

    func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.decodeChain($0) }
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes += ByteLevelAlphabet.bytes(of: token) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .replace(let pattern, let content):
            return tokens.map { $0.replacingScalars(of: pattern, with: content) }
        case .byteFallback:
            return Self.fallBackBytes(tokens)
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let scalars = Array(token.unicodeScalars)
                var from = 0
                while from < min(start, scalars.count), scalars[from] == content { from += 1 }
                var to = scalars.count
                while scalars.count - to < stop, to > from, scalars[to - 1] == content { to -= 1 }
                return String(scalars: scalars[from..<to])
            }
        case .metaspace(let replacement, let scheme):
            return tokens.enumerated().map { index, token in
                var scalars = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement {
                        scalars.append(scalar)
                    } else if index != 0 || scheme == .never {
                        scalars.append(" ")
                    }
                }
                return String(scalars)
            }
        }
    }

    private static func fallBackBytes(_ tokens: [String]) -> [String] {
        var output: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if isValidUTF8(pending) {
                output.append(String(decoding: pending, as: UTF8.self))
            } else {
                output.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if let byte = byteToken(token) {
                pending.append(byte)
            } else {
                flush()
                output.append(token)
            }
        }
        flush()
        return output
    }

    private static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// The byte of a `<0xXX>` token.
    static func byteToken(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, token.hasPrefix("<0x"), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }
}
