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
