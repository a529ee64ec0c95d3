/// Python's format-spec mini-language (`format(value, spec)`, the part after `:` in
/// `str.format` fields): `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
struct FormatSpec {
    var fill: Unicode.Scalar?
    var align: Unicode.Scalar?
    var sign: Unicode.Scalar?
    var alternate = false
    var width = 0
    var grouping: Unicode.Scalar?
    var precision: Int?
    var type: Unicode.Scalar?
    let isEmpty: Bool

    init(_ spec: String) throws {
        let scalars = PythonText.scalars(spec)
        isEmpty = scalars.isEmpty
        var i = 0
        let aligns: Set<Unicode.Scalar> = ["<", ">", "=", "^"]
        if scalars.count >= 2, aligns.contains(scalars[1]) {
            fill = scalars[0]
            align = scalars[1]
            i = 2
        } else if let first = scalars.first, aligns.contains(first) {
            align = first
            i = 1
        }
        if i < scalars.count, "+- ".unicodeScalars.contains(scalars[i]) {
            sign = scalars[i]
            i += 1
        }
        if i < scalars.count, scalars[i] == "#" {
            alternate = true
            i += 1
        }
        if i < scalars.count, scalars[i] == "0" {
            if fill == nil { fill = "0" }
            if align == nil { align = "=" }
            i += 1
        }
        func digits() -> Int? {
            var value: Int?
            while i < scalars.count, scalars[i].isASCII, scalars[i].properties.numericType == .decimal {
                value = (value ?? 0) * 10 + Int(scalars[i].value - 0x30)
                i += 1
                if value! > 1_000_000 { return value }
            }
            return value
        }
        width = digits() ?? 0
        if i < scalars.count, scalars[i] == "," || scalars[i] == "_" {
            grouping = scalars[i]
            i += 1
        }
        if i < scalars.count, scalars[i] == "." {
            i += 1
            guard let value = digits() else { throw ChatTemplateError(.value, "Format specifier missing precision") }
            precision = value
        }
        if i < scalars.count {
            type = scalars[i]
            i += 1
        }
        guard i == scalars.count, width <= 1_000_000, (precision ?? 0) <= 1_000_000 else {
            throw ChatTemplateError(.value, "Invalid format specifier")
        }
    }

    func apply(to value: Value) throws -> String {
        switch value {
        case .string(let text), .markup(let text):
            return try formatString(text)
        case .bool where isEmpty:
            return try pythonStr(value)
        case .int, .bool:
            return try formatInteger(value.integerPayload!)
        case .double(let number):
            return try formatFloat(number)
        default:
            guard isEmpty else {
                throw ChatTemplateError(.type, "unsupported format string passed to \(pythonTypeName(value)).__format__")
            }
            return try pythonStr(value)
        }
    }

    private func formatString(_ text: String) throws -> String {
        guard type == nil || type == "s" else {
            throw ChatTemplateError(.value, "Unknown format code '\(type!)' for object of type 'str'")
        }
        if sign != nil { throw ChatTemplateError(.value, "Sign not allowed in string format specifier") }
        if align == "=" { throw ChatTemplateError(.value, "'=' alignment not allowed in string format specifier") }
        var body = text
        if let precision { body = PythonText.string(text.unicodeScalars.prefix(precision)) }
        return pad(prefix: "", body: body, defaultAlign: "<")
    }

    private func formatInteger(_ number: Int) throws -> String {
        switch type {
        case "e", "E", "f", "F", "g", "G", "%":
            return try formatFloat(Double(number))
        case nil, "d", "n", "b", "o", "x", "X", "c":
            break
        default:
            throw ChatTemplateError(.value, "Unknown format code '\(type!)' for object of type 'int'")
        }
        if precision != nil { throw ChatTemplateError(.value, "Precision not allowed in integer format specifier") }
        if type == "c" {
            guard let scalar = Unicode.Scalar(UInt32(clamping: max(0, number))) else {
                throw ChatTemplateError(.value, "%c arg not in range(0x110000)")
            }
            return pad(prefix: "", body: String(scalar), defaultAlign: "<")
        }
        let radix = type == "b" ? 2 : type == "o" ? 8 : (type == "x" || type == "X") ? 16 : 10
        var digits = String(number.magnitude, radix: radix, uppercase: type == "X")
        if let grouping { digits = Self.group(digits, every: radix == 10 ? 3 : 4, with: grouping) }
        var prefix = signText(negative: number < 0)
        if alternate && radix != 10 {
            prefix += radix == 2 ? "0b" : radix == 8 ? "0o" : type == "X" ? "0X" : "0x"
        }
        return pad(prefix: prefix, body: digits, defaultAlign: ">")
    }

    private func formatFloat(_ number: Double) throws -> String {
        var body: String
        let magnitude = abs(number)
        switch type {
        case nil:
            if let precision {
                body = Self.shortG(magnitude, precision: max(precision, 1), alternate: alternate)
            } else {
                body = PythonNumber.repr(magnitude)
            }
        case "f", "F", "e", "E", "g", "G", "n":
            let letter = type == "n" ? "g" : String(type!)
            body = PythonNumber.cFormat("%\(alternate ? "#" : "").*\(letter)", precision: precision ?? 6, magnitude)
        case "%":
            body = PythonNumber.cFormat("%\(alternate ? "#" : "").*f", precision: precision ?? 6, magnitude * 100) + "%"
        default:
            throw ChatTemplateError(.value, "Unknown format code '\(type!)' for object of type 'float'")
        }
        if let grouping, magnitude.isFinite {
            let integerEnd = body.firstIndex { !$0.isNumber } ?? body.endIndex
            body = Self.group(String(body[..<integerEnd]), every: 3, with: grouping) + body[integerEnd...]
        }
        return pad(prefix: signText(negative: number.sign == .minus && !number.isNaN), body: body, defaultAlign: ">")
    }

    /// Python's type-less float format with a precision: like `g`, but switching to an exponent
    /// one digit earlier, and with `.0` added to a whole number.
    private static func shortG(_ value: Double, precision: Int, alternate: Bool) -> String {
        guard value.isFinite else { return PythonNumber.repr(value) }
        let scientific = PythonNumber.cFormat("%.*e", precision: precision - 1, value)
        let exponent = scientific.split(separator: "e").last.flatMap { Int($0) } ?? 0
        if exponent < -4 || exponent >= precision - 1 {
            guard !alternate, let e = scientific.firstIndex(of: "e") else { return scientific }
            var mantissa = scientific[..<e]
            if mantissa.contains(".") {
                while mantissa.last == "0" { mantissa.removeLast() }
                if mantissa.last == "." { mantissa.removeLast() }
            }
            return String(mantissa + scientific[e...])
        }
        var fixed = PythonNumber.cFormat("%\(alternate ? "#" : "").*g", precision: precision, value)
        if !fixed.contains(".") { fixed += ".0" }
        return fixed
    }

    private func signText(negative: Bool) -> String {
        negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
    }

    private func pad(prefix: String, body: String, defaultAlign: Unicode.Scalar) -> String {
        let length = PythonText.length(prefix) + PythonText.length(body)
        guard width > length else { return prefix + body }
        let padding = width - length
        let filler = String(fill ?? " ")
        switch align ?? defaultAlign {
        case "<": return prefix + body + String(repeating: filler, count: padding)
        case "^":
            let left = padding / 2
            return String(repeating: filler, count: left) + prefix + body + String(repeating: filler, count: padding - left)
        case "=": return prefix + String(repeating: filler, count: padding) + body
        default: return String(repeating: filler, count: padding) + prefix + body
        }
    }

    private static func group(_ digits: String, every size: Int, with separator: Unicode.Scalar) -> String {
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -size, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return groups.joined(separator: String(separator))
    }
}
