/// One GGUF metadata value. Integer widths are kept so that a file can be described
/// exactly; the accessors below convert between them where the meaning is the same.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// Any integer value as `Int` (nil for non-integers or values that do not fit).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Any numeric value as `Double`.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [GGUFValue]? { if case .array(let a) = self { a } else { nil } }
    public var strings: [String]? { array?.compactMap(\.string) }
    public var ints: [Int]? { array?.compactMap(\.int) }
    public var floats: [Float]? { array?.compactMap { $0.double.map(Float.init) } }
}
