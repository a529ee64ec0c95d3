extension JSON {
    /// Compact JSON text (`{"a":1,"b":[true,null]}`): members in order, numbers as their
    /// literals, non-ASCII text as UTF-8, and only `"`, `\` and control characters escaped.
    public func serialized() -> String {
        var output = ""
        write(to: &output, separators: (",", ":"))
        return output
    }

    /// Text as Python's `json.dumps(value, ensure_ascii=False)` writes it: `", "` between items
    /// and `": "` after keys.
    public func serializedPythonStyle() -> String {
        var output = ""
        write(to: &output, separators: (", ", ": "))
        return output
    }

    private func write(to output: inout String, separators: (item: String, key: String)) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let number): output += number.text
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let elements):
            output += "["
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output += separators.item }
                element.write(to: &output, separators: separators)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (offset, member) in members.enumerated() {
                if offset > 0 { output += separators.item }
                Self.writeString(member.key, to: &output)
                output += separators.key
                member.value.write(to: &output, separators: separators)
            }
            output += "}"
        }
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var output = ""
        writeString(text, to: &output)
        return output
    }

    private static func writeString(_ text: String, to output: inout String) {
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
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
