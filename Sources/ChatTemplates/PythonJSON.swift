/// Python's `json.dumps`, which transformers installs as the `tojson` filter
/// (`ensure_ascii=False`, keys in insertion order, `", "` and `": "` separators, or `","` and
/// `": "` once an indent is given).
struct PythonJSON {
    var ensureASCII = false
    /// The indent unit; nil writes everything on one line.
    var indent: String?
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false

    func dumps(_ value: Value) throws -> String {
        var output = ""
        try write(value, level: 0, into: &output)
        return output
    }

    private func write(_ value: Value, level: Int, into output: inout String) throws {
        guard level < maximumValueDepth else { throw depthError() }
        switch value {
        case .none: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number): output += Self.floatText(number)
        case .string(let text), .markup(let text): writeString(text, into: &output)
        case .list(let items), .tuple(let items):
            try writeContainer(items, open: "[", close: "]", level: level, into: &output) { item, output in
                try write(item, level: level + 1, into: &output)
            }
        case .dict(let dictionary):
            var entries = Array(dictionary.entries)
            if sortKeys {
                var failure: (any Error)?
                entries.sort { lhs, rhs in
                    do {
                        return try pythonOrder(lhs.0, rhs.0) < 0
                    } catch {
                        failure = error
                        return false
                    }
                }
                if let failure { throw failure }
            }
            try writeContainer(entries, open: "{", close: "}", level: level, into: &output) { entry, output in
                writeString(try Self.keyText(entry.0), into: &output)
                output += keySeparator
                try write(entry.1, level: level + 1, into: &output)
            }
        case .undefined, .iterator, .object:
            throw ChatTemplateError(.type, "Object of type \(pythonTypeName(value)) is not JSON serializable")
        }
    }

    private func writeContainer<T>(
        _ items: [T], open: String, close: String, level: Int, into output: inout String,
        _ writeItem: (T, inout String) throws -> Void
    ) throws {
        guard !items.isEmpty else {
            output += open + close
            return
        }
        output += open
        let newline = indent.map { "\n" + String(repeating: $0, count: level + 1) }
        if let newline { output += newline }
        for (position, item) in items.enumerated() {
            if position > 0 {
                output += itemSeparator
                if let newline { output += newline }
            }
            try writeItem(item, &output)
        }
        if let indent { output += "\n" + String(repeating: indent, count: level) }
        output += close
    }

    /// A dict key as JSON text: strings as they are, numbers, booleans and None converted.
    private static func keyText(_ key: Value) throws -> String {
        switch key {
        case .string(let text), .markup(let text): return text
        case .double(let number): return floatText(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .none: return "null"
        default:
            throw ChatTemplateError(.type, "keys must be str, int, float, bool or None, not \(pythonTypeName(key))")
        }
    }

    private static func floatText(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        return PythonNumber.repr(number)
    }

    private func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let offset = scalar.value - 0x10000
                        output += Self.unicodeEscape(0xD800 + (offset >> 10))
                        output += Self.unicodeEscape(0xDC00 + (offset & 0x3FF))
                    } else {
                        output += Self.unicodeEscape(scalar.value)
                    }
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
