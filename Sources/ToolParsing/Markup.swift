/// Byte-level helpers for finding markers in UTF-8 text that arrives in pieces.
///
/// Parsers keep their unread text as UTF-8 bytes. Every marker starts with an ASCII byte, so a
/// cut made where a marker (or a whitespace run) begins is always a character boundary.
enum Markup {
    /// Where `scan` stopped in `bytes[start...]`.
    enum Scan: Equatable {
        /// `markers[marker]` begins at `offset`; everything before it is plain text.
        case marker(offset: Int, marker: Int)
        /// No marker yet: `bytes[start..<offset]` is plain text; what follows could still be
        /// the start of a marker (empty when `final`).
        case text(upTo: Int)
    }

    /// The earliest of `markers` in `bytes[start...]`, or how far the text is surely plain.
    static func scan(_ bytes: [UInt8], from start: Int, markers: [[UInt8]], final: Bool) -> Scan {
        var offset = start
        while offset < bytes.count {
            for (index, marker) in markers.enumerated() where bytes[offset] == marker[0] {
                switch match(marker, in: bytes, at: offset) {
                case .full: return .marker(offset: offset, marker: index)
                case .partial where !final: return .text(upTo: offset)
                case .partial, .none: break
                }
            }
            offset += 1
        }
        return .text(upTo: bytes.count)
    }

    /// How `marker` relates to the text at `offset`.
    enum Match { case full, partial, none }

    /// Whether `marker` starts at `offset`, or the text ends while it still could.
    static func match(_ marker: [UInt8], in bytes: [UInt8], at offset: Int) -> Match {
        var index = 0
        while index < marker.count {
            if offset + index == bytes.count { return .partial }
            if bytes[offset + index] != marker[index] { return .none }
            index += 1
        }
        return .full
    }

    /// The first index at or after `start` that is not a space, tab or newline.
    static func skipWhitespace(_ bytes: [UInt8], from start: Int) -> Int {
        var offset = start
        while offset < bytes.count, isWhitespace(bytes[offset]) { offset += 1 }
        return offset
    }

    /// Space, tab, carriage return or line feed.
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// `bytes` with leading and trailing whitespace removed.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isWhitespace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isWhitespace(last) { slice = slice.dropLast() }
        return slice
    }

    /// The first occurrence of `marker` at or after `start`.
    static func find(_ marker: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard marker.count <= bytes.count else { return nil }
        var offset = start
        while offset + marker.count <= bytes.count {
            if bytes[offset] == marker[0], match(marker, in: bytes, at: offset) == .full { return offset }
            offset += 1
        }
        return nil
    }

    /// UTF-8 bytes as text.
    static func text(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
