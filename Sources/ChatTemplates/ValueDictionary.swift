/// A Python dict: insertion-ordered, keyed by hashable values with Python's key equality
/// (`1`, `1.0` and `True` are the same key; strings compare by code points).
struct ValueDictionary {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    private var positions: [HashKey: Int] = [:]

    init() {}

    var count: Int { keys.count }

    var isEmpty: Bool { keys.isEmpty }

    var entries: Zip2Sequence<[Value], [Value]> { zip(keys, values) }

    /// The value for a key; nil if absent or if the key cannot be hashed.
    subscript(key: Value) -> Value? {
        guard let hashKey = try? HashKey(key), let position = positions[hashKey] else { return nil }
        return values[position]
    }

    /// The value for a key; throws Python's `TypeError` for an unhashable key.
    func lookup(_ key: Value) throws -> Value? {
        positions[try HashKey(key)].map { values[$0] }
    }

    /// Sets a key; a key already present keeps its position.
    mutating func set(_ key: Value, _ value: Value) throws {
        let hashKey = try HashKey(key)
        if let position = positions[hashKey] {
            values[position] = value
        } else {
            positions[hashKey] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    /// Sets a string key (which is always hashable).
    mutating func set(_ key: String, _ value: Value) {
        let hashKey = HashKey.string(ExactString(key))
        if let position = positions[hashKey] {
            values[position] = value
        } else {
            positions[hashKey] = keys.count
            keys.append(.string(key))
            values.append(value)
        }
    }
}

/// A String compared and hashed by its Unicode scalars, as Python compares `str`
/// (Swift's own `==` would also equate canonically equivalent strings).
struct ExactString: Hashable {
    let value: String

    init(_ value: String) {
        self.value = value
    }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.value.utf8.elementsEqual(rhs.value.utf8)
    }

    func hash(into hasher: inout Hasher) {
        for byte in value.utf8 { hasher.combine(byte) }
    }
}

/// The hashable identity of a dict key.
enum HashKey: Hashable {
    case none
    case undefined
    case int(Int)
    case double(Double)
    case string(ExactString)
    case tuple([HashKey])
    case object(ObjectIdentifier)

    init(_ value: Value) throws {
        switch value {
        case .none: self = .none
        case .undefined: self = .undefined
        case .bool(let flag): self = .int(flag ? 1 : 0)
        case .int(let number): self = .int(number)
        case .double(let number):
            if number == number.rounded(), let exact = Int(exactly: number) {
                self = .int(exact)
            } else {
                self = .double(number)
            }
        case .string(let text), .markup(let text): self = .string(ExactString(text))
        case .tuple(let items): self = .tuple(try items.map(HashKey.init))
        case .object(let object): self = .object(ObjectIdentifier(object))
        case .iterator(let iterator): self = .object(ObjectIdentifier(iterator))
        case .list, .dict:
            throw ChatTemplateError(.type, "unhashable type: \(pythonRepr(pythonTypeName(value)))")
        }
    }
}
