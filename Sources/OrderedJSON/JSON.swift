/// A JSON document that keeps what a schema, a tool call or a request body means: members in
/// document order (JSON Schema emits properties in that order; tool arguments are echoed back
/// as written) and numbers as their literal text (so `1.0e3` is not rewritten, and integers
/// beyond 2^53 stay exact).
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// Parses UTF-8 JSON text (RFC 8259, strictly: one value, optional surrounding whitespace,
    /// no comments, no trailing commas, no lone surrogates). Nesting deeper than `maxDepth` is an
    /// error, not a stack overflow.
    /// - Throws: `JSONSyntaxError` with the byte offset of the problem.
    public init(parsing bytes: [UInt8], maxDepth: Int = 512) throws(JSONSyntaxError) {
        var parser = JSONReader(bytes: bytes, maxDepth: maxDepth)
        self = try parser.parseDocument()
    }

    /// Parses JSON text given as a string.
    public init(parsing text: String, maxDepth: Int = 512) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8), maxDepth: maxDepth)
    }

    /// The member `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    /// The element at `index` of an array (nil when out of range or not an array).
    public subscript(index: Int) -> JSON? {
        if case .array(let elements) = self, elements.indices.contains(index) { elements[index] } else { nil }
    }

    public var isNull: Bool { self == .null }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var number: JSONNumber? { if case .number(let value) = self { value } else { nil } }
    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var array: [JSON]? { if case .array(let value) = self { value } else { nil } }
    public var object: JSONObject? { if case .object(let value) = self { value } else { nil } }

    /// The JSON type's name as JSON Schema spells it (`"integer"` for whole numbers).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let number): number.isInteger ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON number: the literal as written, with its value.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal, e.g. `-12`, `3.0`, `1e-7`.
    public let text: String
    /// The nearest `Double`.
    public let double: Double

    /// A literal that the JSON grammar accepts (`-0`, `12.5e3`); nil otherwise.
    public init?(_ text: String) {
        guard JSONReader.isNumberLiteral(Array(text.utf8)), let value = Double(text) else { return nil }
        self.text = text
        self.double = value
    }

    /// An integer.
    public init(_ value: Int64) {
        text = String(value)
        double = Double(value)
    }

    /// A finite double, written as Swift's shortest round-trip form (nil for NaN or infinity).
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        if value == value.rounded(), abs(value) < 1e15 {
            text = String(Int64(value))
        } else {
            text = "\(value)"
        }
        double = value
    }

    /// The exact integral value when it fits Int64 (`3`, `3.0` and `3e0` qualify; `3.5` not).
    public var int64: Int64? {
        if let exact = Int64(text) { return exact }
        guard double == double.rounded(), abs(double) < 9.2e18 else { return nil }
        return Int64(exactly: double)
    }

    /// Whether the value is whole (JSON Schema's "integer" counts 1.0 as one).
    public var isInteger: Bool { double.isFinite && double == double.rounded() }

    public var description: String { text }

    /// Numbers compare by value: `1` equals `1.0` (as JSON Schema's `enum` and `const` require).
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool { lhs.double == rhs.double }
    public func hash(into hasher: inout Hasher) { hasher.combine(double) }
}

/// The members of a JSON object, in document order. A key given twice keeps its first position
/// and its last value (as Python's `json` and JavaScript do).
public struct JSONObject: Sendable, Hashable, RandomAccessCollection {
    public private(set) var keys: [String]
    public private(set) var values: [JSON]
    private var index: [String: Int]

    public init() {
        keys = []
        values = []
        index = [:]
    }

    public init(_ pairs: [(String, JSON)]) {
        self.init()
        for (key, value) in pairs { self[key] = value }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { keys.count }
    public subscript(position: Int) -> (key: String, value: JSON) { (keys[position], values[position]) }

    /// The value of `key`; setting nil removes the member.
    public subscript(key: String) -> JSON? {
        get { index[key].map { values[$0] } }
        set {
            if let position = index[key] {
                if let newValue {
                    values[position] = newValue
                } else {
                    keys.remove(at: position)
                    values.remove(at: position)
                    for offset in position..<keys.count { index[keys[offset]] = offset }
                    index[key] = nil
                }
            } else if let newValue {
                index[key] = keys.count
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Objects are equal when they hold the same members, whatever their order (JSON's meaning).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.keys.count == rhs.keys.count && lhs.index.allSatisfy { key, position in rhs[key] == lhs.values[position] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(keys.count)
        for key in keys.sorted() { hasher.combine(key); hasher.combine(self[key]) }
    }
}

/// Why a text is not JSON: what was wrong, and at which byte.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}
