import Foundation
import Testing

import ModelLoading

/// Every way a GGUF file can be wrong gives a one-line `ModelLoadError`, never a crash.
@Suite struct GGUFErrorTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
    }

    /// A small valid file: two keys, one F32 tensor [8] and one Q8_0 tensor [32, 2].
    private func validBuilder() -> GGUFBuilder {
        var builder = GGUFBuilder()
        builder.add(key: "general.architecture", string: "llama")
        builder.add(key: "test.array", type: 9, payload: GGUFBuilder.u32(4) + GGUFBuilder.u64(3) + [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])
        builder.addTensor(name: "a", dims: [8], type: 0, offset: 0)
        builder.addTensor(name: "b", dims: [32, 2], type: 8, offset: 32)
        builder.dataBytes = 32 + 68
        return builder
    }

    private func open(_ builder: GGUFBuilder, _ kind: ModelLoadError.Kind, _ fragments: String...,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try folder.write("model.gguf", builder.bytes)
        expectLoadError(kind, path: path, containing: fragments, sourceLocation: sourceLocation) {
            try GGUFFile(path: path)
        }
    }

    @Test func builderMakesAValidFile() throws {
        let path = try folder.write("model.gguf", validBuilder().bytes)
        let file = try GGUFFile(path: path)
        #expect(file.tensorNames == ["a", "b"])
        #expect(file.metadata["test.array"]?.ints == [1, 2, 3])
        #expect(try file.tensor("b").shape == [2, 32])
    }

    @Test func truncatedAtNamedCutPoints() throws {
        let bytes = try Fixtures.bytes("gguf-v3.gguf")
        let reference = try Fixtures.reference("gguf-v3.json")
        let metadata = try #require(reference["metadata"] as? [[String: Any]])
        let tensors = try #require(reference["tensors"] as? [[String: Any]])
        let tokenArray = try #require(metadata.last { $0["key"] as? String == "tokenizer.ggml.tokens" }?["offset"] as? Int)
        let infoOffset = try #require(tensors[3]["info_offset"] as? Int)
        let q8 = try #require(tensors.first { $0["name"] as? String == "q8_0.weight" })
        let q8Start = try #require(q8["data_offset"] as? Int)
        let last = try #require(tensors.last)
        let lastEnd = try #require(last["data_offset"] as? Int) + (try #require(last["n_bytes"] as? Int))
        let cuts: [(Int, [String])] = [
            (0, ["magic needs bytes 0..<4 but the file has 0 bytes"]), (2, ["magic"]), (6, ["version"]),
            (12, ["tensor count needs bytes 8..<16"]), (20, ["metadata count needs bytes 16..<24"]),
            // Early cuts leave too few bytes for the declared tensors: reported as soon as seen.
            (133, ["truncated or corrupt: tensor count is 8, more than the 109 bytes left in the file can hold"]),
            (tokenArray + 25_000, ["of metadata 'tokenizer.ggml.tokens'", "element"]),
            (infoOffset + 3, ["length of name of tensor #3 needs bytes \(infoOffset)..<\(infoOffset + 8)"]),
            (infoOffset + 20, ["dimension count of tensor 'f16.matrix'"]),
            (q8Start + 100, ["tensor 'q8_0.weight' data ends at byte \(q8Start + 272) but the file has \(q8Start + 100) bytes"]),
            (lastEnd - 1, ["tensor 'q4_1.weight' data ends at byte \(lastEnd)"]),
        ]
        for (cut, fragments) in cuts {
            let path = try folder.write("cut-\(cut).gguf", Array(bytes[..<cut]))
            expectLoadError(.truncated, path: path, containing: ["truncated"] + fragments) { try GGUFFile(path: path) }
        }
    }

    @Test func truncatedInsideAString() throws {
        var builder = GGUFBuilder()
        builder.add(key: "general.name", string: "a name long enough to be cut in the middle")
        let bytes = builder.bytes
        let path = try folder.write("cut.gguf", Array(bytes[..<(bytes.count - 40)]))
        expectLoadError(.truncated, path: path, containing: ["metadata 'general.name' needs bytes 56..<98 but the file has 88 bytes"]) {
            try GGUFFile(path: path)
        }
    }

    /// Cuts everywhere: densely through the header and the tensor infos and data, sparsely
    /// through the token table.
    @Test func truncatedAnywhereIsAnError() throws {
        let bytes = try Fixtures.bytes("gguf-v3.gguf")
        let reference = try Fixtures.reference("gguf-v3.json")
        let tensors = try #require(reference["tensors"] as? [[String: Any]])
        let firstInfo = try #require(tensors.first?["info_offset"] as? Int)
        let last = try #require(tensors.last)
        let lastEnd = try #require(last["data_offset"] as? Int) + (try #require(last["n_bytes"] as? Int))
        let cuts = Array(stride(from: 1, to: 1500, by: 3)) + Array(stride(from: 1500, to: firstInfo, by: 499))
            + Array(stride(from: firstInfo - 100, to: lastEnd, by: 11))
        for cut in cuts {
            let path = try folder.write("cut.gguf", Array(bytes[..<cut]))
            expectLoadError(.truncated, path: path, containing: ["truncated"]) { try GGUFFile(path: path) }
        }
    }

    @Test func badMagic() throws {
        var builder = validBuilder()
        builder.magic = Array("GGML".utf8)
        try open(builder, .malformed, "bad magic 0x4C4D4747", "not a GGUF file")
    }

    @Test func unsupportedVersions() throws {
        var builder = validBuilder()
        builder.version = 1
        try open(builder, .unsupported, "unsupported GGUF version 1", "versions 2 and 3")
        builder.version = 4
        try open(builder, .unsupported, "unsupported GGUF version 4")
        builder.version = UInt32(3).byteSwapped
        try open(builder, .unsupported, "version 3 in big-endian byte order")
    }

    @Test func absurdCounts() throws {
        var builder = validBuilder()
        builder.tensorCount = 1 << 40
        try open(builder, .truncated, "tensor count is 1099511627776", "can hold")
        builder = validBuilder()
        builder.metadataCount = UInt64.max
        try open(builder, .truncated, "metadata count is 18446744073709551615")
        builder = GGUFBuilder()
        builder.add(key: "big", type: 9, payload: GGUFBuilder.u32(8) + GGUFBuilder.u64(1 << 50))
        try open(builder, .truncated, "element count of metadata 'big' is 1125899906842624")
        builder = GGUFBuilder()
        builder.add(key: "long", type: 8, payload: GGUFBuilder.u64(UInt64.max) + Array("x".utf8))
        try open(builder, .truncated, "metadata 'long' needs bytes")
    }

    @Test func unknownValueTypes() throws {
        var builder = GGUFBuilder()
        builder.add(key: "odd", type: 13, payload: [0, 0, 0, 0])
        try open(builder, .malformed, "metadata 'odd' has unknown value type 13")
        builder = GGUFBuilder()
        builder.add(key: "odd.array", type: 9, payload: GGUFBuilder.u32(99) + GGUFBuilder.u64(1) + [0])
        try open(builder, .malformed, "metadata 'odd.array' is an array of unknown value type 99")
    }

    @Test func arraysNestedTooDeep() throws {
        var payload: [UInt8] = []
        for _ in 0..<20 { payload += GGUFBuilder.u32(9) + GGUFBuilder.u64(1) }
        payload += GGUFBuilder.u32(0) + GGUFBuilder.u64(0)
        var builder = GGUFBuilder()
        builder.add(key: "deep", type: 9, payload: payload)
        try open(builder, .malformed, "nests arrays more than 8 deep")
    }

    @Test func nonUTF8Strings() throws {
        var builder = GGUFBuilder()
        builder.add(key: [0x62, 0xFF, 0x61], type: 4, payload: GGUFBuilder.u32(1))
        try open(builder, .malformed, "metadata key #0 at byte 32 is not valid UTF-8")
        builder = GGUFBuilder()
        builder.add(key: "s", type: 8, payload: GGUFBuilder.string([0xC3, 0x28]))
        try open(builder, .malformed, "metadata 's'", "not valid UTF-8")
        builder = GGUFBuilder()
        builder.addTensor(name: "\u{1F999}", dims: [1], type: 0, offset: 0)
        builder.dataBytes = 4
        let bytes = builder.bytes
        let cut = bytes.firstIndex(of: 0xF0)!
        var broken = bytes
        broken[cut + 1] = 0x41
        let path = try folder.write("model.gguf", broken)
        expectLoadError(.malformed, path: path, containing: ["name of tensor #0", "not valid UTF-8"]) { try GGUFFile(path: path) }
    }

    @Test func duplicateKeysAndTensors() throws {
        var builder = GGUFBuilder()
        builder.add(key: "k", string: "a")
        builder.add(key: "k", string: "b")
        try open(builder, .malformed, "metadata key 'k' appears twice")
        builder = validBuilder()
        builder.addTensor(name: "a", dims: [8], type: 0, offset: 0)
        try open(builder, .malformed, "tensor 'a' appears twice")
    }

    @Test func badAlignment() throws {
        var builder = validBuilder()
        builder.add(key: "general.alignment", type: 4, payload: GGUFBuilder.u32(24))
        try open(builder, .malformed, "general.alignment is 24, not a positive power of two")
        builder = validBuilder()
        builder.add(key: "general.alignment", type: 8, payload: GGUFBuilder.string("32"))
        try open(builder, .malformed, "general.alignment is string(\"32\")")
    }

    @Test func badTensorInfos() throws {
        var builder = validBuilder()
        builder.addTensor(name: "odd", dims: [32], type: 16, offset: 0)
        let error = try #require(try openError(builder, .unsupported, "tensor 'odd' has ggml type id 16", "Q4_1 (3)"))
        #expect(error.message.contains("BF16 (30)"))
        for dims in [[], [1, 1, 1, 1, 1]] as [[UInt64]] {
            builder = validBuilder()
            builder.addTensor(name: "c", dims: dims, type: 0, offset: 0)
            try open(builder, .malformed, "tensor 'c' has \(dims.count) dimensions (GGUF allows 1 to 4)")
        }
        builder = validBuilder()
        builder.addTensor(name: "huge", dims: [1 << 32, 1 << 32], type: 0, offset: 0)
        try open(builder, .malformed, "tensor 'huge' has dims [4294967296, 4294967296] whose product overflows")
        builder = validBuilder()
        builder.addTensor(name: "negative", dims: [UInt64.max], type: 0, offset: 0)
        try open(builder, .malformed, "tensor 'negative' dimension 0 is 18446744073709551615, too large")
        builder = validBuilder()
        builder.addTensor(name: "q", dims: [33, 2], type: 2, offset: 0)
        try open(builder, .malformed, "tensor 'q' first dimension 33 is not a multiple of the Q4_0 block size 32")
        builder = validBuilder()
        builder.addTensor(name: "m", dims: [8], type: 0, offset: 48)
        try open(builder, .malformed, "tensor 'm' data offset 48 is not a multiple of the alignment 32")
        builder = validBuilder()
        builder.addTensor(name: "far", dims: [8], type: 0, offset: 1 << 62)
        try open(builder, .truncated, "tensor 'far' data ends at byte 46116860184273", "but the file has")
        builder = validBuilder()
        builder.addTensor(name: "farther", dims: [8], type: 0, offset: UInt64(Int.max) - 31)
        try open(builder, .truncated, "tensor 'farther' data ends at byte beyond \(Int.max)")
    }

    @Test func missingTensorAndWrongShape() throws {
        let path = try folder.write("model.gguf", validBuilder().bytes)
        let file = try GGUFFile(path: path)
        expectLoadError(.missingTensor, path: path, containing: ["no tensor named 'blk.0.attn_q.weight'"]) {
            try file.tensor("blk.0.attn_q.weight")
        }
        expectLoadError(.wrongShape, path: path, containing: ["tensor 'b' has shape [2, 32] but [32, 2] was expected"]) {
            try file.tensor("b", shape: [32, 2])
        }
    }

    @Test func unreadableFiles() throws {
        let missing = folder.path + "/absent.gguf"
        expectLoadError(.unreadable, path: missing, containing: ["cannot open", "No such file"]) { try GGUFFile(path: missing) }
        expectLoadError(.unreadable, path: folder.path, containing: ["not a regular file"]) { try GGUFFile(path: folder.path) }
        let empty = try folder.write("empty.gguf", [])
        expectLoadError(.truncated, path: empty, containing: ["magic needs bytes 0..<4 but the file has 0 bytes"]) {
            try GGUFFile(path: empty)
        }
    }

    private func openError(_ builder: GGUFBuilder, _ kind: ModelLoadError.Kind, _ fragments: String...) throws -> ModelLoadError? {
        let path = try folder.write("model.gguf", builder.bytes)
        return expectLoadError(kind, path: path, containing: fragments) { try GGUFFile(path: path) }
    }
}
