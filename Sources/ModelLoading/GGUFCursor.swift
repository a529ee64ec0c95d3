/// Reads GGUF's encodings one after another from a mapped file, checking every length and
/// count against the bytes that remain before allocating anything for it.
///
/// Each read takes `what`, a description of the item for error messages ("metadata
/// 'general.name'", "element 3 of metadata 'tokenizer.ggml.tokens'"); it is an autoclosure,
/// built only when a read fails, so the 100k-string token tables parse at full speed.
struct GGUFCursor {
    let file: MappedFile
    /// Absolute byte offset of the next read.
    var offset: Int

    /// Deepest array nesting accepted; real files use one level, and a limit keeps a corrupt
    /// file from recursing until the stack runs out.
    static let maxArrayDepth = 8

    init(file: MappedFile, offset: Int = 0) {
        self.file = file
        self.offset = offset
    }

    var remaining: Int { file.size - offset }

    @inline(__always)
    mutating func fixed<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let value = try file.integer(T.self, at: offset, what())
        offset += MemoryLayout<T>.size
        return value
    }

    /// A u64 count of items each at least `minimumBytes` long. A count the rest of the file
    /// cannot hold (a cut file, or a corrupt count) is refused before anything is allocated.
    mutating func count(_ what: @autoclosure () -> String, minimumBytes: Int) throws -> Int {
        try checkCount(try fixed(UInt64.self, what()), what(), minimumBytes: minimumBytes)
    }

    /// `raw` as an `Int`, if the bytes after the cursor can hold that many items.
    func checkCount(_ raw: UInt64, _ what: @autoclosure () -> String, minimumBytes: Int) throws -> Int {
        guard raw <= UInt64(max(remaining, 0) / max(minimumBytes, 1)) else {
            throw ModelLoadError(
                path: file.path, kind: .truncated,
                "truncated or corrupt: \(what()) is \(raw), more than the \(remaining) bytes left in the file can hold")
        }
        return Int(raw)
    }

    /// A GGUF string: u64 byte length, then that many bytes of UTF-8 (no terminator).
    @inline(__always)
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let length = try fixed(UInt64.self, "length of \(what())")
        let count = Int(clamping: length)
        let string = try file.string(at: offset, count: count, what())
        offset += count
        return string
    }

    /// One metadata value of GGUF value type `type` (see GGUFFile's format notes).
    mutating func value(type: UInt32, _ what: @autoclosure () -> String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try fixed(UInt8.self, what()))
        case 1: return .int8(try fixed(Int8.self, what()))
        case 2: return .uint16(try fixed(UInt16.self, what()))
        case 3: return .int16(try fixed(Int16.self, what()))
        case 4: return .uint32(try fixed(UInt32.self, what()))
        case 5: return .int32(try fixed(Int32.self, what()))
        case 6: return .float32(Float(bitPattern: try fixed(UInt32.self, what())))
        case 7: return .bool(try fixed(UInt8.self, what()) != 0)
        case 8: return .string(try string(what()))
        case 9: return try array(what(), depth: depth)
        case 10: return .uint64(try fixed(UInt64.self, what()))
        case 11: return .int64(try fixed(Int64.self, what()))
        case 12: return .float64(Double(bitPattern: try fixed(UInt64.self, what())))
        default:
            throw ModelLoadError.malformed(file.path, "\(what()) has unknown value type \(type)")
        }
    }

    /// An array: u32 element type, u64 count, then the elements (arrays may nest).
    private mutating func array(_ what: @autoclosure () -> String, depth: Int) throws -> GGUFValue {
        guard depth < Self.maxArrayDepth else {
            throw ModelLoadError.malformed(file.path, "\(what()) nests arrays more than \(Self.maxArrayDepth) deep")
        }
        let elementType = try fixed(UInt32.self, "element type of \(what())")
        guard let minimumBytes = Self.minimumBytes(ofValueType: elementType) else {
            throw ModelLoadError.malformed(file.path, "\(what()) is an array of unknown value type \(elementType)")
        }
        let count = try count("element count of \(what())", minimumBytes: minimumBytes)
        var elements: [GGUFValue] = []
        elements.reserveCapacity(count)
        for index in 0..<count {
            elements.append(try value(type: elementType, "element \(index) of \(what())", depth: depth + 1))
        }
        return .array(elements)
    }

    /// The fewest bytes a value of the type can take (a string its length, an array its type
    /// and count), or nil for an unknown type.
    static func minimumBytes(ofValueType type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        case 9: 12
        default: nil
        }
    }
}
