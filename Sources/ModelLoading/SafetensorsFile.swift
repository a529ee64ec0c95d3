// safetensors (huggingface/safetensors), as read here:
//
//   u64 N (little-endian)  length of the header
//   N bytes                JSON object: name -> {"dtype": "F32", "shape": [outer, ..., inner],
//                          "data_offsets": [begin, end]}, plus an optional "__metadata__"
//                          object of string -> string. Writers may pad it with spaces.
//   data                   the tensors' bytes, row-major, little-endian; offsets are relative
//                          to the first byte after the header, `end` exclusive.

import Foundation
import Tensors

/// One safetensors file, memory-mapped: its header and its tensors as zero-copy views.
///
/// Every entry is listed, whatever its dtype; asking for a tensor whose dtype is not a weight
/// type Tern reads (F32, F16, BF16, and F8_E4M3 for FP8 checkpoints) is an `.unsupported`
/// error naming the dtype.
public final class SafetensorsFile: WeightStore {
    /// One header entry.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// The dtype as the header spells it: "F32", "BF16", "I64", ...
        public let dtypeName: String
        /// The matching `DType`, for the weight types Tern reads (F32, F16, BF16, F8_E4M3).
        public let dtype: DType?
        /// Outermost first.
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let dataRange: Range<Int>
    }

    public let path: String
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// The entries in data order.
    public let entries: [Entry]
    /// Absolute file offset of the data section (8 + header length).
    public let dataOffset: Int

    private let file: MappedFile
    private let entryIndex: [String: Int]

    /// Headers beyond this are refused as corrupt, as the reference implementation does.
    static let maxHeaderBytes = 100_000_000

    /// Bytes per element of the dtypes the format defines.
    static let elementBytes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
        "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4,
        "I64": 8, "U64": 8, "F64": 8,
    ]

    static let weightDTypes: [String: DType] = ["F32": .f32, "F16": .f16, "BF16": .bf16, "F8_E4M3": .f8e4m3]

    /// Maps and parses the file at `path`; throws `ModelLoadError` naming the file and the
    /// first problem found.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let rawLength = try file.integer(UInt64.self, at: 0, "header length")
        guard rawLength <= UInt64(file.size - 8) else {
            throw ModelLoadError.truncated(path, "header length \(rawLength) goes beyond the end of the file (\(file.size) bytes)")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= Self.maxHeaderBytes else {
            throw ModelLoadError.malformed(path, "header length \(headerLength) is over the \(Self.maxHeaderBytes)-byte limit")
        }
        let headerBytes = try file.bytes(at: 8, count: headerLength, "header")
        let header: JSONValue
        do {
            var parser = JSONParser(bytes: headerBytes)
            header = try parser.parseDocument()
        } catch {
            throw ModelLoadError.malformed(path, "header is not valid JSON: \(error)")
        }
        guard let members = header.object else {
            throw ModelLoadError.malformed(path, "header is a JSON \(header.kindName), not an object")
        }
        let dataOffset = 8 + headerLength
        let dataSize = file.size - dataOffset

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value, path: path)
            } else {
                entries.append(try Self.parseEntry(name: name, value, dataSize: dataSize, path: path))
            }
        }
        entries.sort { ($0.dataRange.lowerBound, $0.name) < ($1.dataRange.lowerBound, $1.name) }
        let filled = entries.filter { !$0.dataRange.isEmpty }
        for (previous, next) in zip(filled, filled.dropFirst()) where next.dataRange.lowerBound < previous.dataRange.upperBound {
            throw ModelLoadError.malformed(
                path, "tensor '\(next.name)' data (bytes \(next.dataRange)) overlaps tensor '\(previous.name)' "
                    + "(bytes \(previous.dataRange))")
        }

        self.path = path
        self.file = file
        self.metadata = metadata
        self.entries = entries
        self.dataOffset = dataOffset
        self.entryIndex = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    public var tensorNames: [String] { entries.map(\.name) }

    public func contains(_ name: String) -> Bool { entryIndex[name] != nil }

    /// The header entry called `name`, if any.
    public func entry(_ name: String) -> Entry? {
        entryIndex[name].map { entries[$0] }
    }

    /// The tensor called `name` (shape outermost first), its bytes a view into the mapping.
    public func tensor(_ name: String) throws -> TensorData {
        guard let entry = entry(name) else { throw missingTensor(name) }
        guard let dtype = entry.dtype else {
            throw ModelLoadError.unsupported(
                path, "tensor '\(name)' has dtype \(entry.dtypeName), which is not a weight type Tern reads (F32, F16, BF16)")
        }
        let bytes = try file.bytes(
            at: dataOffset + entry.dataRange.lowerBound, count: entry.dataRange.count, "tensor '\(name)' data")
        return TensorData(name: name, dtype: dtype, shape: entry.shape, bytes: bytes)
    }

    private static func parseMetadata(_ value: JSONValue, path: String) throws -> [String: String] {
        guard let members = value.object else {
            throw ModelLoadError.malformed(path, "__metadata__ is a JSON \(value.kindName), not an object")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard let string = value.string else {
                throw ModelLoadError.malformed(path, "__metadata__ '\(key)' is a JSON \(value.kindName), not a string")
            }
            metadata[key] = string
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: JSONValue, dataSize: Int, path: String) throws -> Entry {
        func bad(_ problem: String) -> ModelLoadError {
            ModelLoadError.malformed(path, "tensor '\(name)' \(problem)")
        }
        guard value.object != nil else { throw bad("is a JSON \(value.kindName), not an object") }
        guard let dtypeName = value["dtype"]?.string else { throw bad("has no string 'dtype'") }
        guard let shape = value["shape"]?.ints, shape.allSatisfy({ $0 >= 0 }) else {
            throw bad("has no 'shape' list of non-negative integers")
        }
        guard let offsets = value["data_offsets"]?.ints, offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw bad("has no 'data_offsets' [begin, end] with 0 <= begin <= end")
        }
        guard offsets[1] <= dataSize else {
            throw ModelLoadError.truncated(
                path, "tensor '\(name)' data ends at byte \(offsets[1]) of the data section but the section has \(dataSize) bytes")
        }
        if let elementBytes = elementBytes[dtypeName] {
            var expected = elementBytes
            for dim in shape {
                let product = expected.multipliedReportingOverflow(by: dim)
                guard !product.overflow else { throw bad("has shape \(shape) whose byte size overflows") }
                expected = product.partialValue
            }
            guard offsets[1] - offsets[0] == expected else {
                throw bad("spans \(offsets[1] - offsets[0]) bytes but shape \(shape) of \(dtypeName) needs \(expected)")
            }
        }
        return Entry(
            name: name, dtypeName: dtypeName, dtype: weightDTypes[dtypeName], shape: shape,
            dataRange: offsets[0]..<offsets[1])
    }
}
