extension GrammarBuilder {
    /// A rule matching exactly the decimal integers in `low...high` (no leading zeros, `-` for
    /// negatives), built digit by digit as range-to-regex converters do.
    mutating func integerRange(_ low: Int64, _ high: Int64) -> Int {
        memoized("range \(low) \(high)") { builder in
            var alternatives: [[Item]] = []
            if low < 0 {
                // -|x| for x in max(1, -high)...-low
                let negativeHigh = UInt64(-(low + 1)) + 1
                let negativeLow = high < 0 ? UInt64(-(high + 1)) + 1 : 1
                for sequence in Self.unsignedRange(negativeLow, negativeHigh) {
                    alternatives.append(Self.literal("-") + sequence)
                }
            }
            if high >= 0 {
                for sequence in Self.unsignedRange(UInt64(max(low, 0)), UInt64(high)) { alternatives.append(sequence) }
            }
            return builder.rule("integer range", alternatives)
        }
    }

    /// Digit-class sequences spelling exactly `low...high` (unsigned, no leading zeros).
    static func unsignedRange(_ low: UInt64, _ high: UInt64) -> [[Item]] {
        guard low <= high else { return [] }
        var result: [[Item]] = []
        var start = low
        while start <= high {
            let digits = String(start).count
            let top = digits >= 19 ? UInt64.max : power(digits) - 1
            let end = min(high, top)
            result += sameLength(Array(String(start).utf8), Array(String(end).utf8))
            if end == UInt64.max || end == high { break }
            start = end + 1
        }
        return result
    }

    private static func power(_ exponent: Int) -> UInt64 {
        (0..<exponent).reduce(UInt64(1)) { value, _ in value * 10 }
    }

    /// Sequences for `a...b`, both with the same number of digits (ASCII).
    private static func sameLength(_ a: [UInt8], _ b: [UInt8]) -> [[Item]] {
        guard a.count > 1 else { return [[.bytes(ByteClass(a[0]...b[0]))]] }
        if a[0] == b[0] {
            return sameLength(Array(a.dropFirst()), Array(b.dropFirst())).map { [.bytes(.byte(a[0]))] + $0 }
        }
        let nines = [UInt8](repeating: UInt8(ascii: "9"), count: a.count - 1)
        let zeros = [UInt8](repeating: UInt8(ascii: "0"), count: a.count - 1)
        var result: [[Item]] = []
        result += sameLength(Array(a.dropFirst()), nines).map { [.bytes(.byte(a[0]))] + $0 }
        if a[0] + 1 <= b[0] - 1 {
            result.append([.bytes(ByteClass(a[0] + 1...b[0] - 1))] + [Item](repeating: .bytes(ByteClass(0x30...0x39)), count: a.count - 1))
        }
        result += sameLength(zeros, Array(b.dropFirst())).map { [.bytes(.byte(b[0]))] + $0 }
        return result
    }
}
