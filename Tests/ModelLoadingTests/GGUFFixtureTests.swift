import Foundation
import Tensors
import Testing

import ModelLoading

/// Tern's reading of GGUF files against gguf-py's (Fixtures/gguf-v*.json).
@Suite struct GGUFFixtureTests {
    @Test(arguments: ["gguf-v3", "gguf-v2"])
    func matchesGGUFPy(fixture: String) throws {
        let reference = try Fixtures.reference(fixture + ".json")
        let file = try GGUFFile(path: Fixtures.path(fixture + ".gguf"))

        #expect(file.version == reference["version"] as? Int)
        #expect(file.alignment == reference["alignment"] as? Int)
        #expect(file.dataOffset == reference["data_offset"] as? Int)

        let metadata = try #require(reference["metadata"] as? [[String: Any]])
        #expect(file.metadataKeys == metadata.map { $0["key"] as? String ?? "" })
        #expect(file.metadata.count == metadata.count)
        for entry in metadata {
            let key = try #require(entry["key"] as? String)
            let value = try #require(file.metadata[key], "missing key \(key)")
            try expectEqual(value, entry["value"], at: key)
        }

        let tensors = try #require(reference["tensors"] as? [[String: Any]])
        #expect(file.tensorNames == tensors.map { $0["name"] as? String ?? "" })
        for expected in tensors {
            let name = try #require(expected["name"] as? String)
            let info = try #require(file.tensorInfo(name))
            let dims = try #require(expected["dims"] as? [Int])
            #expect(info.dims == dims, "\(name)")
            #expect(info.dtype.rawValue == expected["type_id"] as? UInt32, "\(name)")
            #expect(info.dtype.description == expected["type"] as? String, "\(name)")
            #expect(file.dataOffset + info.offset == expected["data_offset"] as? Int, "\(name)")
            #expect(info.byteCount == expected["n_bytes"] as? Int, "\(name)")

            let tensor = try file.tensor(name)
            #expect(tensor.name == name)
            #expect(tensor.dtype == info.dtype)
            #expect(tensor.shape == dims.reversed(), "HF order is GGUF dims reversed")
            #expect(tensor.bytes.count == expected["n_bytes"] as? Int, "\(name)")
            #expect(crc32(tensor.bytes) == expected["crc32"] as? UInt32, "\(name) bytes differ")
            #expect(try file.tensor(name, shape: dims.reversed()).bytes.baseAddress == tensor.bytes.baseAddress)
            #expect(file.contains(name))
        }
        #expect(!file.contains("no.such.tensor"))
    }

    @Test func accessorsReadTheFixtureValues() throws {
        let file = try GGUFFile(path: Fixtures.path("gguf-v3.gguf"))
        #expect(file.metadata["general.architecture"]?.string == "tern_fixture")
        #expect(file.metadata["test.u32"]?.int == 4_000_000_000)
        #expect(file.metadata["test.u64"]?.int == nil, "2^64-1 does not fit an Int")
        #expect(file.metadata["test.bool_true"]?.bool == true)
        #expect(file.metadata["test.array.float32"]?.floats == [0.5, -1.25, 1e-7])
        let tokens = try #require(file.metadata["tokenizer.ggml.tokens"]?.strings)
        #expect(tokens.count == 2000)
        #expect(tokens[7] == "Ġ▁7é")
        let nested = try #require(file.metadata["test.array.nested_i32"]?.array)
        #expect(nested.map { $0.ints ?? [] } == [[1, 2, 3], [4], [5, 6]])
        let q4 = try #require(file.tensorInfo("q4_1.weight"))
        #expect(q4.shape == [2, 128])
        #expect(try file.tensor("q4_1.weight").rowBytes == 4 * DType.q4_1.blockBytes)
    }

    /// Compares a Tern value with gguf-py's typed JSON value, type included.
    private func expectEqual(_ value: GGUFValue, _ reference: Any?, at where: String) throws {
        let typed = try #require(reference as? [String: Any], "\(`where`)")
        let type = try #require(typed["type"] as? String)
        let raw = typed["value"]
        func integer<T: FixedWidthInteger>(_: T.Type) -> T? { (raw as? String).flatMap { T($0) } }
        switch (type, value) {
        case ("UINT8", .uint8(let v)): #expect(v == integer(UInt8.self), "\(`where`)")
        case ("INT8", .int8(let v)): #expect(v == integer(Int8.self), "\(`where`)")
        case ("UINT16", .uint16(let v)): #expect(v == integer(UInt16.self), "\(`where`)")
        case ("INT16", .int16(let v)): #expect(v == integer(Int16.self), "\(`where`)")
        case ("UINT32", .uint32(let v)): #expect(v == integer(UInt32.self), "\(`where`)")
        case ("INT32", .int32(let v)): #expect(v == integer(Int32.self), "\(`where`)")
        case ("UINT64", .uint64(let v)): #expect(v == integer(UInt64.self), "\(`where`)")
        case ("INT64", .int64(let v)): #expect(v == integer(Int64.self), "\(`where`)")
        case ("FLOAT32", .float32(let v)): #expect(v == (raw as? Double).map(Float.init), "\(`where`)")
        case ("FLOAT64", .float64(let v)): #expect(v == raw as? Double, "\(`where`)")
        case ("BOOL", .bool(let v)): #expect(v == raw as? Bool, "\(`where`)")
        case ("STRING", .string(let v)): #expect(Array(v.utf8) == (raw as? String).map { Array($0.utf8) }, "\(`where`)")
        case ("ARRAY", .array(let elements)):
            let expected = try #require(raw as? [Any])
            #expect(elements.count == expected.count, "\(`where`)")
            for (index, (element, reference)) in zip(elements, expected).enumerated() {
                try expectEqual(element, reference, at: "\(`where`)[\(index)]")
            }
        default:
            Issue.record("\(`where`): gguf-py reads \(type), Tern reads \(value)")
        }
    }
}
