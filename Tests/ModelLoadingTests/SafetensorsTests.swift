import Foundation
import Tensors
import Testing

import ModelLoading

/// Tern's reading of safetensors files against the safetensors package's (Fixtures/*.json).
@Suite struct SafetensorsTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
    }

    private static let weightTypes: [String: DType] = ["F32": .f32, "F16": .f16, "BF16": .bf16]

    /// Checks every tensor the reference lists: shape and bytes for weight dtypes, a clear
    /// error for the others.
    private func expectMatches(_ store: any WeightStore, _ tensors: [String: Any]) throws {
        #expect(Set(store.tensorNames) == Set(tensors.keys))
        for (name, value) in tensors {
            let expected = try #require(value as? [String: Any])
            let dtype = try #require(expected["dtype"] as? String)
            let shape = try #require(expected["shape"] as? [Int])
            #expect(store.contains(name))
            if let weightType = Self.weightTypes[dtype] {
                let tensor = try store.tensor(name, shape: shape)
                #expect(tensor.dtype == weightType, "\(name)")
                #expect(tensor.name == name)
                #expect(crc32(tensor.bytes) == expected["crc32"] as? UInt32, "\(name) bytes differ")
            } else {
                expectLoadError(.unsupported, path: (store as? SafetensorsStore)?.shards.first?.path ?? store.path,
                                containing: ["tensor '\(name)' has dtype \(dtype)", "not a weight type", "F32, F16, BF16"]) {
                    try store.tensor(name)
                }
            }
        }
    }

    @Test func singleFileMatchesReference() throws {
        let reference = try Fixtures.reference("single.json")
        let path = Fixtures.path("single.safetensors")
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == reference["metadata"] as? [String: String])
        let tensors = try #require(reference["tensors"] as? [String: Any])
        try expectMatches(file, tensors)
        let position = try #require(file.entry("position_ids"))
        #expect(position.dtypeName == "I64" && position.dtype == nil && position.shape == [1, 5])
        #expect(file.entries.map(\.dataRange.lowerBound) == file.entries.map(\.dataRange.lowerBound).sorted())

        let store = try SafetensorsStore(path: path)
        #expect(store.shards.count == 1)
        #expect(store.tensorNames == file.tensorNames)
        expectLoadError(.unsupported, path: path, containing: ["dtype I64"]) { try store.tensor("position_ids") }
    }

    @Test func shardedCheckpointMatchesReference() throws {
        let reference = try Fixtures.reference("sharded.json")
        let index = Fixtures.path("sharded/model.safetensors.index.json")
        let store = try SafetensorsStore(path: index)
        #expect(store.path == index)
        #expect(store.shards.map { ($0.path as NSString).lastPathComponent }
            == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        let weightMap = try #require(reference["weight_map"] as? [String: String])
        for name in store.tensorNames {
            let shard = try #require(store.shards.first { $0.contains(name) })
            #expect((shard.path as NSString).lastPathComponent == weightMap[name])
        }
        try expectMatches(store, try #require(reference["tensors"] as? [String: Any]))
    }

    @Test func missingTensorAndWrongShape() throws {
        let path = Fixtures.path("single.safetensors")
        let store = try SafetensorsStore(path: path)
        expectLoadError(.missingTensor, path: path, containing: ["no tensor named 'lm_head.weight'"]) {
            try store.tensor("lm_head.weight")
        }
        expectLoadError(.wrongShape, path: path, containing: ["tensor 'embed.weight' has shape [6, 4] but [4, 6] was expected"]) {
            try store.tensor("embed.weight", shape: [4, 6])
        }
    }

    /// A file with the header `json` and `dataBytes` zero bytes of data.
    private func file(header json: String, dataBytes: Int = 16, declaredLength: UInt64? = nil) throws -> String {
        let header = Array(json.utf8)
        let bytes = GGUFBuilder.u64(declaredLength ?? UInt64(header.count)) + header + [UInt8](repeating: 0, count: dataBytes)
        return try folder.write("model.safetensors", bytes)
    }

    private func expectOpenError(_ path: String, _ kind: ModelLoadError.Kind, _ fragments: String...,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        expectLoadError(kind, path: path, containing: fragments, sourceLocation: sourceLocation) {
            try SafetensorsFile(path: path)
        }
    }

    @Test func headerErrors() throws {
        expectOpenError(try folder.write("tiny.safetensors", [1, 2, 3]), .truncated, "header length needs bytes 0..<8")
        expectOpenError(try file(header: "{}", declaredLength: 1_000_000), .truncated,
                        "header length 1000000 goes beyond the end of the file (26 bytes)")
        expectOpenError(try file(header: "{\"a\": {\"dtype\": \"F32\",", dataBytes: 0), .malformed,
                        "header is not valid JSON", "unexpected end of text")
        expectOpenError(try file(header: "[1, 2]"), .malformed, "header is a JSON array, not an object")
        expectOpenError(try file(header: "{\"__metadata__\": {\"n\": 1}}"), .malformed,
                        "__metadata__ 'n' is a JSON number, not a string")
        expectOpenError(try file(header: "{\"w\\u00e9\": 3}"), .malformed, "tensor 'wé' is a JSON number, not an object")
    }

    @Test func entryErrors() throws {
        expectOpenError(try file(header: #"{"w": {"shape": [2], "data_offsets": [0, 8]}}"#), .malformed,
                        "tensor 'w' has no string 'dtype'")
        expectOpenError(try file(header: #"{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#), .malformed,
                        "tensor 'w' has no 'shape' list of non-negative integers")
        expectOpenError(try file(header: #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#), .malformed,
                        "tensor 'w' has no 'data_offsets' [begin, end] with 0 <= begin <= end")
        expectOpenError(try file(header: #"{"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}"#), .truncated,
                        "tensor 'w' data ends at byte 32 of the data section but the section has 16 bytes")
        expectOpenError(try file(header: #"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#), .malformed,
                        "tensor 'w' spans 8 bytes but shape [3] of F32 needs 12")
        expectOpenError(try file(header: #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#),
                        .malformed, "tensor 'w' has shape [4294967296, 4294967296] whose byte size overflows")
    }

    @Test func unknownDTypeIsListedButNotLoaded() throws {
        let path = try file(header: #"{"w": {"dtype": "F4_E2M1", "shape": [4], "data_offsets": [0, 2]}}"#)
        let file = try SafetensorsFile(path: path)
        #expect(file.tensorNames == ["w"])
        expectLoadError(.unsupported, path: path, containing: ["tensor 'w' has dtype F4_E2M1"]) { try file.tensor("w") }
    }

    @Test func indexErrors() throws {
        for shard in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            try folder.copy(fixture: "sharded/" + shard, as: shard)
        }
        func index(_ text: String) throws -> String {
            try folder.write("model.safetensors.index.json", text: text)
        }
        var path = try index(#"{"weight_map": {"lm_head.weight": "model-00003-of-00003.safetensors"}}"#)
        expectLoadError(.unreadable, path: folder.path + "/model-00003-of-00003.safetensors", containing: ["cannot open"]) {
            try SafetensorsStore(path: path)
        }
        path = try index(#"{"weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}}"#)
        expectLoadError(.missingTensor, path: path,
                        containing: ["the index puts tensor 'lm_head.weight' in model-00001-of-00002.safetensors, which has no such tensor"]) {
            try SafetensorsStore(path: path)
        }
        path = try index(#"{"weight_map": {"lm_head.weight": "../model-00002-of-00002.safetensors"}}"#)
        expectLoadError(.malformed, path: path, containing: ["maps tensor 'lm_head.weight' to \"../model", "not a file name beside the index"]) {
            try SafetensorsStore(path: path)
        }
        path = try index(#"{"metadata": {}}"#)
        expectLoadError(.malformed, path: path, containing: ["index has no 'weight_map' object"]) { try SafetensorsStore(path: path) }
        path = try index(#"{"weight_map": {}"#)
        expectLoadError(.malformed, path: path, containing: ["index is not valid JSON", "at byte 17"]) { try SafetensorsStore(path: path) }
        path = try index(#"{"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}}"#)
        let store = try SafetensorsStore(path: path)
        #expect(store.tensorNames == ["lm_head.weight"])
        #expect(!store.contains("model.norm.weight"), "only tensors the index names are exposed")
    }
}
