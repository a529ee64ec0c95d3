/// A value handed to a chat template: the JSON-like data of a conversation (messages, tools,
/// flags). Dictionaries keep their keys in insertion order, as Python dicts do, because
/// `tojson` and `items()` expose that order in the rendered prompt.
public enum JinjaValue: Sendable, Equatable {
    /// Python's `None` (JSON `null`).
    case none
    case bool(Bool)
    /// A Python `int`; 64 bits here.
    case int(Int)
    /// A Python `float`.
    case double(Double)
    case string(String)
    /// A Python list.
    case array([JinjaValue])
    /// A Python dict with string keys, in insertion order.
    case dictionary(JinjaDictionary)
}

extension JinjaValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .none }
}

extension JinjaValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JinjaValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension JinjaValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JinjaValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JinjaValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
}

extension JinjaValue: ExpressibleByDictionaryLiteral {
    /// Keeps the literal's key order.
    public init(dictionaryLiteral elements: (String, JinjaValue)...) {
        self = .dictionary(JinjaDictionary(elements))
    }
}

extension JinjaValue {
    /// The string payload, or nil for any other case.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The dictionary payload, or nil for any other case.
    public var dictionaryValue: JinjaDictionary? {
        if case .dictionary(let value) = self { return value }
        return nil
    }

    /// The array payload, or nil for any other case.
    public var arrayValue: [JinjaValue]? {
        if case .array(let value) = self { return value }
        return nil
    }
}
