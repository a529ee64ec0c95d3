// GGUF, the file format of llama.cpp (ggml docs/gguf.md), as read here. All numbers are
// little-endian; there is no padding except where noted.
//
//   header         u32 magic 0x46554747 ("GGUF" as bytes)
//                  u32 version (2 or 3; version 1 used u32 counts and lengths and is refused;
//                      3 only added big-endian files, which show up as a byte-swapped version)
//                  u64 tensor_count
//                  u64 metadata_kv_count
//   metadata       metadata_kv_count times: string key, u32 value type, value
//   tensor infos   tensor_count times: string name, u32 n_dims (1...4), u64 dims[n_dims],
//                  u32 ggml type, u64 offset (from the start of the data section)
//   padding        zero bytes up to a multiple of the alignment
//   data section   the tensors' bytes, each starting at a multiple of the alignment
//
// string: u64 byte length, then UTF-8 bytes, no terminator.
// value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (one byte), 8 string,
//   9 array (u32 element type, u64 count, elements; elements may be arrays), 10 u64, 11 i64,
//   12 f64.
// alignment: metadata `general.alignment` (an integer power of two), default 32.
// dims order: dims[0] varies fastest (ggml's ne[0]); quantization blocks run along it, so
//   dims[0] is a multiple of the type's block size. An HF weight [out, in] is stored as
//   [in, out]; this reader hands shapes out reversed, outermost first, as HF does.
// ggml types: the raw values of `DType` (F32 0, F16 1, Q4_0 2, Q4_1 3, Q8_0 8, BF16 30, ...).

import Tensors

/// A GGUF file (version 2 or 3), memory-mapped: its metadata, its tensor table, and its
/// tensors as zero-copy views.
///
/// Opening parses the header, all metadata (the token tables included) and the tensor infos,
/// and checks that every tensor's data lies inside the file; it reads no tensor data.
public final class GGUFFile: WeightStore {
    public let path: String
    /// The format version: 2 or 3.
    public let version: Int
    /// All metadata values by key.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensor table in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// Alignment of the data section and of every tensor in it, in bytes.
    public let alignment: Int
    /// Absolute file offset of the data section.
    public let dataOffset: Int

    private let file: MappedFile
    private let tensorIndex: [String: Int]

    static let magic: UInt32 = 0x4655_4747
    static let defaultAlignment = 32

    /// Maps and parses the file at `path`; throws `ModelLoadError` naming the file and the
    /// first problem found.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        var cursor = GGUFCursor(file: file)
        let magic = try cursor.fixed(UInt32.self, "magic")
        guard magic == Self.magic else {
            let hex = "0x" + String(magic, radix: 16, uppercase: true)
            throw ModelLoadError.malformed(path, "bad magic \(hex): not a GGUF file (expected \"GGUF\")")
        }
        let version = try cursor.fixed(UInt32.self, "version")
        try Self.checkVersion(version, path: path)
        let rawTensorCount = try cursor.fixed(UInt64.self, "tensor count")
        let rawMetadataCount = try cursor.fixed(UInt64.self, "metadata count")
        // Bounds on the counts: a tensor info takes at least 32 bytes, a key/value 13.
        let tensorCount = try cursor.checkCount(rawTensorCount, "tensor count", minimumBytes: 32)
        let metadataCount = try cursor.checkCount(rawMetadataCount, "metadata count", minimumBytes: 13)

        var metadata: [String: GGUFValue] = [:]
        var metadataKeys: [String] = []
        metadata.reserveCapacity(metadataCount)
        metadataKeys.reserveCapacity(metadataCount)
        for index in 0..<metadataCount {
            let key = try cursor.string("metadata key #\(index)")
            let type = try cursor.fixed(UInt32.self, "value type of metadata '\(key)'")
            let value = try cursor.value(type: type, "metadata '\(key)'")
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw ModelLoadError.malformed(path, "metadata key '\(key)' appears twice")
            }
            metadataKeys.append(key)
        }
        let alignment = try Self.alignment(from: metadata["general.alignment"], path: path)

        var infos: [GGUFTensorInfo] = []
        var tensorIndex: [String: Int] = [:]
        infos.reserveCapacity(tensorCount)
        tensorIndex.reserveCapacity(tensorCount)
        for index in 0..<tensorCount {
            let info = try Self.readTensorInfo(&cursor, index: index, alignment: alignment)
            guard tensorIndex.updateValue(infos.count, forKey: info.name) == nil else {
                throw ModelLoadError.malformed(path, "tensor '\(info.name)' appears twice")
            }
            infos.append(info)
        }

        let padding = (alignment - cursor.offset % alignment) % alignment
        let dataOffset = cursor.offset + padding
        for info in infos {
            let start = dataOffset.addingReportingOverflow(info.offset)
            let end = start.partialValue.addingReportingOverflow(info.byteCount)
            guard !start.overflow, !end.overflow, end.partialValue <= file.size else {
                let endText = start.overflow || end.overflow ? "beyond \(Int.max)" : "\(end.partialValue)"
                throw ModelLoadError.truncated(
                    path, "tensor '\(info.name)' data ends at byte \(endText) but the file has \(file.size) bytes")
            }
        }

        // Tensors may not share bytes: a file whose tensors overlap was not written by a converter.
        let byStart = infos.filter { $0.byteCount > 0 }.sorted { ($0.offset, $0.name) < ($1.offset, $1.name) }
        for (previous, next) in zip(byStart, byStart.dropFirst()) where next.offset < previous.offset + previous.byteCount {
            throw ModelLoadError.malformed(
                path, "tensor '\(next.name)' data (from offset \(next.offset)) overlaps tensor '\(previous.name)' "
                    + "(offsets \(previous.offset)..<\(previous.offset + previous.byteCount))")
        }

        self.path = path
        self.file = file
        self.version = Int(version)
        self.metadata = metadata
        self.metadataKeys = metadataKeys
        self.tensorInfos = infos
        self.tensorIndex = tensorIndex
        self.alignment = alignment
        self.dataOffset = dataOffset
    }

    public var tensorNames: [String] { tensorInfos.map(\.name) }

    public func contains(_ name: String) -> Bool { tensorIndex[name] != nil }

    /// The table entry of the tensor called `name`, if any.
    public func tensorInfo(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensorInfos[$0] }
    }

    /// The tensor called `name` with its shape outermost first (GGUF dims reversed), its
    /// bytes a view into the mapping.
    public func tensor(_ name: String) throws -> TensorData {
        guard let info = tensorInfo(name) else { throw missingTensor(name) }
        let bytes = try file.bytes(at: dataOffset + info.offset, count: info.byteCount, "tensor '\(name)' data")
        return TensorData(name: name, dtype: info.dtype, shape: info.shape, bytes: bytes)
    }

    private static func checkVersion(_ version: UInt32, path: String) throws {
        switch version {
        case 2, 3:
            return
        case 1:
            throw ModelLoadError.unsupported(
                path, "unsupported GGUF version 1 (Tern reads versions 2 and 3; convert the model again with a current llama.cpp)")
        case let v where v & 0xFFFF == 0:
            throw ModelLoadError.unsupported(
                path, "unsupported GGUF version \(v.byteSwapped) in big-endian byte order (Tern reads little-endian files)")
        default:
            throw ModelLoadError.unsupported(path, "unsupported GGUF version \(version) (Tern reads versions 2 and 3)")
        }
    }

    private static func alignment(from value: GGUFValue?, path: String) throws -> Int {
        guard let value else { return defaultAlignment }
        guard let alignment = value.int, alignment > 0, alignment & (alignment - 1) == 0 else {
            let shown = value.int.map(String.init) ?? "\(value)"
            throw ModelLoadError.malformed(path, "general.alignment is \(shown), not a positive power of two")
        }
        return alignment
    }

    private static func readTensorInfo(_ cursor: inout GGUFCursor, index: Int, alignment: Int) throws -> GGUFTensorInfo {
        let path = cursor.file.path
        let name = try cursor.string("name of tensor #\(index)")
        let dimCount = try cursor.fixed(UInt32.self, "dimension count of tensor '\(name)'")
        guard (1...4).contains(dimCount) else {
            throw ModelLoadError.malformed(path, "tensor '\(name)' has \(dimCount) dimensions (GGUF allows 1 to 4)")
        }
        var dims: [Int] = []
        var elementCount = 1
        for axis in 0..<Int(dimCount) {
            let raw = try cursor.fixed(UInt64.self, "dimension \(axis) of tensor '\(name)'")
            guard let dim = Int(exactly: raw) else {
                throw ModelLoadError.malformed(path, "tensor '\(name)' dimension \(axis) is \(raw), too large")
            }
            let product = elementCount.multipliedReportingOverflow(by: dim)
            guard !product.overflow else {
                throw ModelLoadError.malformed(path, "tensor '\(name)' has dims \(dims + [dim]) whose product overflows")
            }
            elementCount = product.partialValue
            dims.append(dim)
        }
        let typeID = try cursor.fixed(UInt32.self, "type of tensor '\(name)'")
        guard let dtype = DType(rawValue: typeID) else {
            let known = DType.allCases.map { "\($0) (\($0.rawValue))" }.joined(separator: ", ")
            throw ModelLoadError.unsupported(
                path, "tensor '\(name)' has ggml type id \(typeID), which Tern does not read (it reads \(known))")
        }
        guard dims[0] % dtype.blockSize == 0 else {
            throw ModelLoadError.malformed(
                path, "tensor '\(name)' first dimension \(dims[0]) is not a multiple of the \(dtype) block size \(dtype.blockSize)")
        }
        guard elementCount / dtype.blockSize <= Int.max / dtype.blockBytes else {
            throw ModelLoadError.malformed(path, "tensor '\(name)' with dims \(dims) has a byte size that overflows")
        }
        let rawOffset = try cursor.fixed(UInt64.self, "data offset of tensor '\(name)'")
        guard let offset = Int(exactly: rawOffset) else {
            throw ModelLoadError.truncated(path, "tensor '\(name)' data starts at offset \(rawOffset), beyond any file")
        }
        guard offset % alignment == 0 else {
            throw ModelLoadError.malformed(
                path, "tensor '\(name)' data offset \(offset) is not a multiple of the alignment \(alignment)")
        }
        return GGUFTensorInfo(name: name, dims: dims, dtype: dtype, offset: offset)
    }
}
