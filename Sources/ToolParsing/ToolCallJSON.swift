import OrderedJSON

/// Reads the JSON shapes in which models write a call: `{"name": ..., "arguments": {...}}`
/// (or `"parameters"`), and argument objects on their own.
enum ToolCallJSON {
    /// A call from the JSON text of an object with a string `name` and an `arguments` or
    /// `parameters` object; nil if the text is not that.
    static func call(fromObject bytes: some Collection<UInt8>) -> ParsedToolCall? {
        guard let value = try? JSON(parsing: Array(bytes)) else { return nil }
        return call(from: value)
    }

    /// A call from an object with a string `name` and an `arguments` or `parameters` object.
    static func call(from value: JSON) -> ParsedToolCall? {
        guard let object = value.object, let name = object["name"]?.string, !name.isEmpty else { return nil }
        guard let arguments = arguments(object["arguments"] ?? object["parameters"]) else { return nil }
        return ParsedToolCall(name: name, arguments: arguments)
    }

    /// A call of `name` whose arguments are the JSON text `bytes`.
    static func call(name: String, arguments bytes: some Collection<UInt8>) -> ParsedToolCall? {
        guard !name.isEmpty, let value = try? JSON(parsing: Array(bytes)),
              let arguments = arguments(value) else { return nil }
        return ParsedToolCall(name: name, arguments: arguments)
    }

    /// The compact text of an arguments value: an object as it is, a string that holds an
    /// object's JSON unwrapped (some models quote their arguments), none or `null` as `{}`.
    static func arguments(_ value: JSON?) -> String? {
        switch value {
        case nil, .null?:
            return "{}"
        case .object?:
            return value?.serialized()
        case .string(let text)?:
            guard let inner = try? JSON(parsing: text), inner.object != nil else { return nil }
            return inner.serialized()
        default:
            return nil
        }
    }
}
