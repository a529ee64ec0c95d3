/// A value handed to a chat template: the JSON-like data of a conversation (messages, tools,
/// flags). Dictionaries keep their keys in insertion order, as Python dicts do, because
/// `tojson` and `items()` expose that order in the rendered prompt.
public enum JinjaValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case dictionary(JinjaDictionary)
}

/// An insertion-ordered `String`-keyed dictionary of `JinjaValue`s (a Python dict with string keys).
/// Equality compares keys in order, then values.
public struct JinjaDictionary: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]

    public init() {}

    /// Builds the dictionary from pairs in order; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, JinjaValue)]) {
        for (key, value) in pairs {
            self[key] = value
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Reading a missing key gives nil; writing nil removes the key; writing a new key appends it.
    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil {
                    keys.append(key)
                }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The entries in insertion order.
    public var entries: [(key: String, value: JinjaValue)] {
        keys.map { ($0, storage[$0]!) }
    }

    public static func == (lhs: JinjaDictionary, rhs: JinjaDictionary) -> Bool {
        lhs.keys == rhs.keys && lhs.storage == rhs.storage
    }
}

extension JinjaDictionary: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JinjaValue)...) {
        self.init(elements)
    }
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
