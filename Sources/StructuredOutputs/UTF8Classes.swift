/// Character classes over Unicode scalars, spelled as UTF-8 byte sequences (the grammar is over
/// bytes): a range of scalars becomes a few sequences of byte ranges, as regex engines' UTF-8
/// compilers do (a range is split until every byte position spans a plain range).
enum UTF8Classes {
    static let maxScalar: UInt32 = 0x10FFFF

    /// The scalar ranges not in `ranges` (surrogates are never characters).
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in normalized(ranges) {
            if range.lowerBound > next { result.append(next...range.lowerBound - 1) }
            next = range.upperBound + 1
        }
        if next <= maxScalar { result.append(next...maxScalar) }
        return result
    }

    /// Sorted, merged ranges.
    static func normalized(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound &+ 1 {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// The byte sequences that spell exactly the scalars of `ranges`.
    static func sequences(_ ranges: [ClosedRange<UInt32>]) -> [[ByteClass]] {
        var result: [[ByteClass]] = []
        for range in normalized(ranges) {
            // Surrogates have no UTF-8 form.
            for piece in subtract(range, 0xD800...0xDFFF) {
                for (low, high) in [(0, 0x7F), (0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF)] as [(UInt32, UInt32)] {
                    let a = max(piece.lowerBound, low)
                    let b = min(piece.upperBound, high)
                    if a <= b { split(a, b, into: &result) }
                }
            }
        }
        return result
    }

    private static func subtract(_ range: ClosedRange<UInt32>, _ hole: ClosedRange<UInt32>) -> [ClosedRange<UInt32>] {
        guard range.overlaps(hole) else { return [range] }
        var pieces: [ClosedRange<UInt32>] = []
        if range.lowerBound < hole.lowerBound { pieces.append(range.lowerBound...hole.lowerBound - 1) }
        if range.upperBound > hole.upperBound { pieces.append(hole.upperBound + 1...range.upperBound) }
        return pieces
    }

    /// `a...b`, both of one encoded length, split until each byte position is a plain range.
    private static func split(_ a: UInt32, _ b: UInt32, into result: inout [[ByteClass]]) {
        let length = encode(a).count
        for i in 1..<max(length, 1) {
            let mask: UInt32 = (1 << (6 * UInt32(i))) - 1
            if a & ~mask != b & ~mask {
                if a & mask != 0 {
                    split(a, a | mask, into: &result)
                    split((a | mask) + 1, b, into: &result)
                    return
                }
                if b & mask != mask {
                    split(a, (b & ~mask) - 1, into: &result)
                    split(b & ~mask, b, into: &result)
                    return
                }
            }
        }
        let low = encode(a)
        let high = encode(b)
        result.append(zip(low, high).map { ByteClass($0...$1) })
    }

    static func encode(_ scalar: UInt32) -> [UInt8] {
        Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
    }
}

extension GrammarBuilder {
    /// A rule matching one character from `ranges` (scalar ranges).
    mutating func characterClass(_ ranges: [ClosedRange<UInt32>], name: String) -> Item {
        let merged = UTF8Classes.normalized(ranges)
        let key = "class " + merged.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
        if merged.count == 1, merged[0].upperBound < 0x80 {
            return .bytes(ByteClass(UInt8(merged[0].lowerBound)...UInt8(merged[0].upperBound)))
        }
        let id = memoized(key) { builder in
            // ASCII ranges share one byte class; longer encodings are sequences.
            var ascii = ByteClass()
            var hasASCII = false
            var alternatives: [[Item]] = []
            for sequence in UTF8Classes.sequences(merged) {
                if sequence.count == 1 {
                    for byte in UInt8(0)...UInt8(0x7F) where sequence[0].contains(byte) { ascii.insert(byte) }
                    hasASCII = true
                } else {
                    alternatives.append(sequence.map { .bytes($0) })
                }
            }
            if hasASCII { alternatives.insert([.bytes(ascii)], at: 0) }
            return builder.rule(name, alternatives)
        }
        return .rule(id)
    }
}
