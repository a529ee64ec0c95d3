/// Finds where a bracketed value (a JSON object or array, a Python list or call) ends in text
/// that may still be arriving. It only matches brackets and skips quoted strings; whether the
/// value is well formed is left to the real parser.
enum BracketScanner {
    /// Where the value that starts at a given offset ends.
    enum End: Equatable {
        /// The value's last bracket is at `offset - 1`.
        case complete(offset: Int)
        /// The text ends inside the value.
        case incomplete
        /// A closing bracket does not match, or the value does not start with a bracket.
        case invalid
    }

    /// The end of the value that starts with an opening bracket at `bytes[start]`; strings are
    /// delimited by any of `quotes` (`"` for JSON, `"` and `'` for Python) with `\` escapes;
    /// with `tripleQuotes`, three quotes open a string that only three quotes close.
    static func end(
        of bytes: [UInt8], from start: Int, quotes: [UInt8] = [UInt8(ascii: "\"")], tripleQuotes: Bool = false
    ) -> End {
        var closers: [UInt8] = []
        var quote: UInt8?
        var quoteWidth = 1
        var escaped = false
        var offset = start
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            if let open = quote {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == open, quoteWidth == 1 || isTriple(open, in: bytes, at: offset - 1) {
                    offset += quoteWidth - 1
                    quote = nil
                }
                continue
            }
            if quotes.contains(byte) {
                guard !closers.isEmpty else { return .invalid }
                quote = byte
                quoteWidth = tripleQuotes && isTriple(byte, in: bytes, at: offset - 1) ? 3 : 1
                offset += quoteWidth - 1
            } else if let closer = closer(for: byte) {
                closers.append(closer)
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: ")") {
                guard closers.last == byte else { return .invalid }
                closers.removeLast()
                if closers.isEmpty { return .complete(offset: offset) }
            } else if closers.isEmpty {
                return .invalid
            }
        }
        return .incomplete
    }

    private static func isTriple(_ quote: UInt8, in bytes: [UInt8], at offset: Int) -> Bool {
        offset + 2 < bytes.count && bytes[offset + 1] == quote && bytes[offset + 2] == quote
    }

    private static func closer(for byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "{"): UInt8(ascii: "}")
        case UInt8(ascii: "["): UInt8(ascii: "]")
        case UInt8(ascii: "("): UInt8(ascii: ")")
        default: nil
        }
    }
}
