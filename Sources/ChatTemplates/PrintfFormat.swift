/// Python's printf-style `str % args` (also the `format` filter): `%s %r %d %i %u %o %x %X
/// %e %E %f %F %g %G %c %%`, with `%(name)s` keys, flags `-+ #0`, width and precision
/// (`*` included).
enum PrintfFormat {
    static func format(_ template: String, _ arguments: Value) throws -> String {
        var positional: [Value]
        var mapping: ValueDictionary?
        switch arguments {
        case .tuple(let items): positional = items
        case .dict(let dictionary):
            positional = [arguments]
            mapping = dictionary
        case .list, .undefined:
            // Python treats any subscriptable argument but a tuple as a mapping: no
            // "not all arguments converted" check.
            positional = [arguments]
            mapping = ValueDictionary()
        default: positional = [arguments]
        }
        var next = 0
        func nextArgument() throws -> Value {
            guard next < positional.count else {
                throw ChatTemplateError(.type, "not enough arguments for format string")
            }
            defer { next += 1 }
            return positional[next]
        }
        let scalars = PythonText.scalars(template)
        var result = ""
        var i = 0
        while i < scalars.count {
            guard scalars[i] == "%" else {
                result.unicodeScalars.append(scalars[i])
                i += 1
                continue
            }
            i += 1
            guard i < scalars.count else { throw ChatTemplateError(.value, "incomplete format") }
            var argument: Value?
            if scalars[i] == "(" {
                guard let mapping else { throw ChatTemplateError(.type, "format requires a mapping") }
                var depth = 1
                var j = i + 1
                while j < scalars.count, depth > 0 {
                    if scalars[j] == "(" { depth += 1 }
                    if scalars[j] == ")" { depth -= 1 }
                    j += 1
                }
                guard depth == 0 else { throw ChatTemplateError(.value, "incomplete format key") }
                let key = PythonText.string(scalars[(i + 1)..<(j - 1)])
                guard let value = mapping[.string(key)] else { throw ChatTemplateError(.value, "KeyError: \(pythonRepr(key))") }
                argument = value
                i = j
            }
            var flags = ""
            while i < scalars.count, "-+ #0".unicodeScalars.contains(scalars[i]) {
                flags.unicodeScalars.append(scalars[i])
                i += 1
            }
            func readNumber() throws -> Int? {
                if i < scalars.count, scalars[i] == "*" {
                    i += 1
                    guard let value = try nextArgument().integerPayload else { throw ChatTemplateError(.type, "* wants int") }
                    return value
                }
                var digits = ""
                while i < scalars.count, scalars[i].properties.numericType == .decimal, scalars[i].isASCII {
                    digits.unicodeScalars.append(scalars[i])
                    i += 1
                }
                return digits.isEmpty ? nil : Int(digits)
            }
            var width = try readNumber()
            if let given = width, given < 0 {
                flags += "-"
                width = -given
            }
            var precision: Int?
            if i < scalars.count, scalars[i] == "." {
                i += 1
                precision = try readNumber() ?? 0
            }
            while i < scalars.count, "hlL".unicodeScalars.contains(scalars[i]) { i += 1 }
            guard i < scalars.count else { throw ChatTemplateError(.value, "incomplete format") }
            let conversion = scalars[i]
            i += 1
            if conversion == "%" {
                result += "%"
                continue
            }
            let value = try argument ?? nextArgument()
            let body = try convert(conversion, value, flags: flags, precision: precision)
            result += pad(body, width: width ?? 0, flags: flags, numeric: !"srac".unicodeScalars.contains(conversion))
        }
        if mapping == nil, next < positional.count {
            throw ChatTemplateError(.type, "not all arguments converted during string formatting")
        }
        return result
    }

    private static func convert(_ conversion: Unicode.Scalar, _ value: Value, flags: String, precision: Int?) throws -> String {
        switch conversion {
        case "s", "r", "a":
            var text = conversion == "s" ? try pythonStr(value) : try pythonRepr(value)
            if let precision { text = PythonText.string(text.unicodeScalars.prefix(precision)) }
            return text
        case "c":
            if let code = value.integerPayload, let scalar = Unicode.Scalar(UInt32(clamping: max(0, code))) {
                return String(scalar)
            }
            if let text = value.stringPayload, text.unicodeScalars.count == 1 { return text }
            throw ChatTemplateError(.type, "%c requires int or char")
        case "d", "i", "u", "o", "x", "X":
            var number: Int
            if let integer = value.integerPayload {
                number = integer
            } else if case .double(let double) = value, "diu".unicodeScalars.contains(conversion), let truncated = Int(exactly: double.rounded(.towardZero)) {
                number = truncated
            } else {
                let kind = "diu".unicodeScalars.contains(conversion) ? "a real number" : "an integer"
                throw ChatTemplateError(.type, "%\(conversion) format: \(kind) is required, not \(pythonTypeName(value))")
            }
            let radix = conversion == "o" ? 8 : (conversion == "x" || conversion == "X") ? 16 : 10
            var digits = String(number.magnitude, radix: radix, uppercase: conversion == "X")
            if let precision, digits.count < precision {
                digits = String(repeating: "0", count: precision - digits.count) + digits
            }
            if flags.contains("#") && radix != 10 {
                digits = (radix == 8 ? "0o" : conversion == "X" ? "0X" : "0x") + digits
            }
            return signPrefix(number < 0, flags) + digits
        case "e", "E", "f", "F", "g", "G":
            guard let number = value.numberPayload else {
                throw ChatTemplateError(.type, "must be real number, not \(pythonTypeName(value))")
            }
            let cFlags = String(flags.filter { $0 == "#" })
            let text = PythonNumber.cFormat("%\(cFlags).*\(conversion)", precision: precision ?? 6, abs(number))
            return signPrefix(number.sign == .minus && !number.isNaN, flags) + text
        default:
            throw ChatTemplateError(.value, "unsupported format character \(pythonRepr(String(conversion)))")
        }
    }

    private static func signPrefix(_ negative: Bool, _ flags: String) -> String {
        negative ? "-" : flags.contains("+") ? "+" : flags.contains(" ") ? " " : ""
    }

    private static func pad(_ body: String, width: Int, flags: String, numeric: Bool) -> String {
        let length = body.unicodeScalars.count
        guard width > length else { return body }
        let fill = width - length
        if flags.contains("-") { return body + String(repeating: " ", count: fill) }
        if numeric && flags.contains("0") {
            var sign = ""
            var digits = Substring(body)
            if let first = digits.first, "+- ".contains(first) {
                sign = String(first)
                digits = digits.dropFirst()
            }
            return sign + String(repeating: "0", count: fill) + digits
        }
        return String(repeating: " ", count: fill) + body
    }
}
