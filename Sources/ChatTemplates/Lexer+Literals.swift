/// Literals inside tags: numbers as jinja2's `float_re` and `integer_re` match them (digits
/// with single underscores, `0x`/`0o`/`0b` prefixes) and quoted strings with Python's escapes.
extension Lexer {
    private func isDigit(_ index: Int) -> Bool {
        index < source.count && source[index].value >= 0x30 && source[index].value <= 0x39
    }

    /// `(\d+_)*\d+`: digits, single underscores allowed between them.
    private func matchDigitGroups(at index: Int) -> Int? {
        guard isDigit(index) else { return nil }
        var i = index
        while true {
            while isDigit(i) { i += 1 }
            if i < source.count, source[i] == "_", isDigit(i + 1) {
                i += 1
            } else {
                return i
            }
        }
    }

    private func matchExponent(at index: Int) -> Int? {
        guard index < source.count, source[index] == "e" || source[index] == "E" else { return nil }
        var i = index + 1
        if i < source.count, source[i] == "+" || source[i] == "-" { i += 1 }
        return matchDigitGroups(at: i)
    }

    func matchFloat(at index: Int) -> Int? {
        if index > 0, source[index - 1] == "." { return nil }
        guard let integerEnd = matchDigitGroups(at: index) else { return nil }
        var fractionEnd: Int?
        if integerEnd < source.count, source[integerEnd] == "." {
            fractionEnd = matchDigitGroups(at: integerEnd + 1)
        }
        if let fractionEnd, let end = matchExponent(at: fractionEnd) { return end }
        if let end = matchExponent(at: integerEnd) { return end }
        return fractionEnd
    }

    func matchInteger(at index: Int) throws(ChatTemplateError) -> (Int, Int)? {
        guard isDigit(index) else { return nil }
        var end: Int?
        var radix = 10
        var digitsStart = index
        if source[index] == "0", index + 1 < source.count {
            let prefix = source[index + 1]
            let radices: [Unicode.Scalar: Int] = ["b": 2, "B": 2, "o": 8, "O": 8, "x": 16, "X": 16]
            if let prefixRadix = radices[prefix] {
                var i = index + 2
                var sawDigit = false
                while true {
                    let j = i < source.count && source[i] == "_" ? i + 1 : i
                    guard j < source.count, let digit = hexDigitValue(UInt8(truncatingIfNeeded: source[j].value)),
                          source[j].isASCII, digit < prefixRadix else { break }
                    sawDigit = true
                    i = j + 1
                }
                if sawDigit {
                    end = i
                    radix = prefixRadix
                    digitsStart = index + 2
                }
            }
        }
        if end == nil {
            if source[index] == "0" {
                var i = index + 1
                while true {
                    let j = i < source.count && source[i] == "_" ? i + 1 : i
                    guard j < source.count, source[j] == "0" else { break }
                    i = j + 1
                }
                end = i
            } else {
                var i = index + 1
                while true {
                    let j = i < source.count && source[i] == "_" ? i + 1 : i
                    guard isDigit(j) else { break }
                    i = j + 1
                }
                end = i
            }
        }
        guard let end else { return nil }
        let digits = String(String.UnicodeScalarView(source[digitsStart..<end].filter { $0 != "_" }))
        guard let value = Int(digits, radix: radix) else {
            throw fail("integer literal too large: \(digits)")
        }
        return (end, value)
    }

    /// The end (after the closing quote) of a quoted string starting at `index`, or nil if unterminated.
    func matchString(at index: Int) -> Int? {
        let quote = source[index]
        var i = index + 1
        while i < source.count {
            if source[i] == "\\" {
                i += 2
                continue
            }
            if source[i] == quote { return i + 1 }
            i += 1
        }
        return nil
    }

    /// Decodes backslash escapes as Python's `unicode-escape` codec does.
    func unescape(_ body: ArraySlice<Unicode.Scalar>) throws(ChatTemplateError) -> String {
        var result = String.UnicodeScalarView()
        var i = body.startIndex
        func hexValue(_ count: Int, _ name: String) throws(ChatTemplateError) -> UInt32 {
            guard body.endIndex - i >= count else { throw fail("truncated \(name) escape") }
            var value: UInt32 = 0
            for k in 0..<count {
                let scalar = body[i + k]
                guard scalar.isASCII, let digit = hexDigitValue(UInt8(scalar.value)) else {
                    throw fail("truncated \(name) escape")
                }
                value = value * 16 + UInt32(digit)
            }
            i += count
            return value
        }
        while i < body.endIndex {
            let scalar = body[i]
            i += 1
            guard scalar == "\\" else {
                result.append(scalar)
                continue
            }
            guard i < body.endIndex else { throw fail("\\ at end of string") }
            let escaped = body[i]
            i += 1
            switch escaped {
            case "\n": break
            case "\\", "'", "\"": result.append(escaped)
            case "a": result.append("\u{07}")
            case "b": result.append("\u{08}")
            case "f": result.append("\u{0C}")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "t": result.append("\t")
            case "v": result.append("\u{0B}")
            case "0"..."7":
                var value = escaped.value - 0x30
                var digits = 1
                while digits < 3, i < body.endIndex, body[i].value >= 0x30, body[i].value <= 0x37 {
                    value = value * 8 + body[i].value - 0x30
                    i += 1
                    digits += 1
                }
                result.append(Unicode.Scalar(value)!)
            case "x": result.append(Unicode.Scalar(try hexValue(2, "\\xXX"))!)
            case "u": result.append(Unicode.Scalar(try hexValue(4, "\\uXXXX")) ?? "\u{FFFD}")
            case "U":
                let value = try hexValue(8, "\\UXXXXXXXX")
                guard value <= 0x10FFFF else { throw fail("illegal Unicode character") }
                result.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            case "N": throw ChatTemplateError(.unsupported, "\\N{...} escapes in string literals", line: line)
            default:
                result.append("\\")
                if escaped.isASCII {
                    result.append(escaped)
                } else {
                    // Python first writes a non-ASCII character as its own escape, then decodes:
                    // `\é` becomes the four characters `\xe9`.
                    let hex = String(escaped.value, radix: 16)
                    let (letter, width) = escaped.value <= 0xFF ? ("x", 2) : escaped.value <= 0xFFFF ? ("u", 4) : ("U", 8)
                    result.append(contentsOf: (letter + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        return String(result)
    }
}
