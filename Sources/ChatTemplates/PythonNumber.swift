#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's number formatting and parsing: `repr(float)`, `round()`, `int(str)`, `float(str)`.
enum PythonNumber {
    /// `repr(x)` of a Python float: the shortest digits that round-trip, in fixed notation
    /// when the decimal exponent is in [-4, 16), else as `1e+16`, `1.5e-05`.
    static func repr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let sign = value.sign == .minus ? "-" : ""
        let (digits, exponent) = shortestDigits(abs(value))
        guard !digits.isEmpty else { return sign + "0.0" }
        // `decimalPoint`: the value is 0.d1d2d3... x 10^decimalPoint.
        let decimalPoint = exponent + digits.count
        if decimalPoint <= -4 || decimalPoint > 16 {
            var mantissa = String(digits.first!)
            if digits.count > 1 {
                mantissa += "." + String(digits.dropFirst())
            }
            let e = decimalPoint - 1
            let exponentDigits = String(abs(e))
            return sign + mantissa + "e" + (e < 0 ? "-" : "+") + (exponentDigits.count < 2 ? "0" : "") + exponentDigits
        }
        if decimalPoint <= 0 {
            return sign + "0." + String(repeating: "0", count: -decimalPoint) + String(digits)
        }
        if decimalPoint >= digits.count {
            return sign + String(digits) + String(repeating: "0", count: decimalPoint - digits.count) + ".0"
        }
        let split = digits.index(digits.startIndex, offsetBy: decimalPoint)
        return sign + String(digits[..<split]) + "." + String(digits[split...])
    }

    /// The shortest round-trip significant digits of a finite non-negative double (no leading or
    /// trailing zeros; empty for zero) and the exponent of the last digit. Swift's `description`
    /// already finds the shortest digits; only its layout differs from Python's.
    private static func shortestDigits(_ value: Double) -> ([Character], Int) {
        let text = value.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits: [Character] = []
        var fractionDigits = 0
        var inFraction = false
        for character in mantissa {
            if character == "." {
                inFraction = true
            } else {
                digits.append(character)
                if inFraction { fractionDigits += 1 }
            }
        }
        exponent -= fractionDigits
        while digits.first == "0" { digits.removeFirst() }
        while digits.last == "0" {
            digits.removeLast()
            exponent += 1
        }
        return (digits, exponent)
    }

    /// Python's `round(x, ndigits)` for a float: correctly rounded, ties to even on the exact
    /// binary value (what printing with `%.*f` does).
    static func round(_ value: Double, digits: Int) -> Double {
        guard value.isFinite else { return value }
        if digits > 308 { return value }
        if digits < -308 { return 0.0 * value }
        if digits >= 0 {
            let text = formatFixed(value, precision: digits)
            return Double(text) ?? value
        }
        let scale = pow(10.0, Double(-digits))
        let scaled = value / scale
        let rounded = scaled.rounded(.toNearestOrEven)
        return rounded * scale
    }

    /// `%.{precision}f` formatting.
    static func formatFixed(_ value: Double, precision: Int) -> String {
        cFormat("%.*f", precision: precision, value)
    }

    /// C's `snprintf` of one double with a `*` precision, e.g. `cFormat("%#.*g", precision: 3, x)`.
    static func cFormat(_ format: String, precision: Int, _ value: Double) -> String {
        let precision = min(max(precision, 0), 1_000_000)
        var buffer = [CChar](repeating: 0, count: 400 + precision)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            withVaList([Int32(precision), value]) { vsnprintf(pointer.baseAddress, pointer.count, format, $0) }
        }
        let length = max(0, min(Int(count), buffer.count - 1))
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Python's `int(text, base)` for a string: optional whitespace and sign, digits with single
    /// underscores between them, and for base 0 a `0x`/`0o`/`0b` prefix. Nil when Python would
    /// raise `ValueError` (or the value does not fit in 64 bits).
    static func parseInt(_ text: String, base: Int) -> Int? {
        var body = PythonText.strip(text, nil)
        var negative = false
        if body.hasPrefix("-") || body.hasPrefix("+") {
            negative = body.hasPrefix("-")
            body.removeFirst()
        }
        var radix = base
        let lowered = body.lowercased()
        for (prefix, prefixRadix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lowered.hasPrefix(prefix) {
            if base == 0 || base == prefixRadix {
                radix = prefixRadix
                body = String(body.dropFirst(2))
                if body.hasPrefix("_") { body.removeFirst() }
            }
        }
        if radix == 0 {
            radix = 10
            if body.count > 1, body.hasPrefix("0"), body.contains(where: { $0 != "0" && $0 != "_" }) { return nil }
        }
        guard (2...36).contains(radix), !body.isEmpty, !body.hasPrefix("_"), !body.hasSuffix("_"),
              !body.contains("__"), body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { return nil }
        guard let magnitude = Int(body.replacingUnderscores(), radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Python's `float(text)`: decimal or exponent notation, `inf`, `infinity`, `nan`, with
    /// optional sign, surrounding whitespace and underscores between digits.
    static func parseDouble(_ text: String) -> Double? {
        var body = PythonText.strip(text, nil)
        var negative = false
        if body.hasPrefix("-") || body.hasPrefix("+") {
            negative = body.hasPrefix("-")
            body.removeFirst()
        }
        let lowered = body.lowercased()
        var value: Double?
        if lowered == "inf" || lowered == "infinity" {
            value = .infinity
        } else if lowered == "nan" {
            value = .nan
        } else {
            guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || "._eE+-".contains($0)) }),
                  !body.hasPrefix("_"), !body.hasSuffix("_"), !body.contains("__"),
                  body.contains(where: \.isNumber)
            else { return nil }
            var previous: Character = " "
            for character in body {
                if character == "_" && !previous.isNumber { return nil }
                previous = character
            }
            let cleaned = body.replacingUnderscores()
            guard cleaned.first != "+", cleaned.first != "-" else { return nil }
            value = Double(cleaned)
        }
        guard let value else { return nil }
        return negative ? -value : value
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(filter { $0 != "_" })
    }
}

extension Double {
    /// 10 to the power `exponent`, as Python's `10 ** exponent` gives it for `round(..., 'ceil')`.
    static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}
