/// GPT-2's reversible map from bytes to printable code points, in which byte-level vocabularies
/// are spelled: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls, space,
/// DEL, NBSP, soft hyphen...) take U+0100 onwards in byte order, so space is `Ġ` and `\n` is `Ċ`.
enum ByteLevelAlphabet {
    /// The code point that spells each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each code point of the alphabet spells, indexed by code point (U+0000...U+0143);
    /// -1 where a code point is not in the alphabet.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, scalar) in scalarForByte.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    /// The byte a code point spells, or nil if it is not in the alphabet.
    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < byteForScalar.count, byteForScalar[value] >= 0 else { return nil }
        return UInt8(byteForScalar[value])
    }

    /// `text`'s UTF-8 bytes spelled in the alphabet.
    static func spell(_ text: some StringProtocol) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in text.utf8 {
            scalars.append(scalarForByte[Int(byte)])
        }
        return String(scalars)
    }

    /// The bytes a token spells if every code point is in the alphabet; otherwise the token's own
    /// UTF-8 (as HF's ByteLevel decoder does for added tokens written in plain text).
    static func bytes(of token: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return Array(token.utf8) }
            bytes.append(byte)
        }
        return bytes
    }

    /// Whether every code point of `token` is in the alphabet.
    static func isSpelled(_ token: String) -> Bool {
        token.unicodeScalars.allSatisfy { byte(for: $0) != nil }
    }

    private static func isPrintable(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }
}
