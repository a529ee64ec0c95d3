import Foundation
import ModelLoading
import Models
import Testing

@Suite struct ModelConfigTests {
    func config(_ json: String) throws -> ModelConfig {
        try ModelConfig(huggingFace: try JSONValue(parsing: json), source: "config.json")
    }

    let base = #""hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 128"#

    @Test func readsOlderAndNewerRopeKeys() throws {
        let old = try config(#"{"architectures": ["LlamaForCausalLM"], \#(base), "rope_theta": 500000, "rope_scaling": {"rope_type": "linear", "factor": 2.0}}"#)
        #expect(old.ropeTheta == 500000 && old.ropeScaling == .linear(factor: 2))
        #expect(old.kvHeadCount == 4 && old.headDim == 16 && old.ropeStyle == .neox)
        let new = try config(#"{"model_type": "qwen2", \#(base), "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}}"#)
        #expect(new.family == .qwen2 && new.ropeTheta == 1_000_000 && new.ropeScaling == .none)
    }

    @Test func unknownArchitectureIsNamed() {
        #expect {
            try config(#"{"architectures": ["GPTNeoXForCausalLM"], \#(base)}"#)
        } throws: { error in
            "\(error)".contains("config.json") && "\(error)".contains("GPTNeoXForCausalLM")
                && "\(error)".contains("LlamaForCausalLM")
        }
    }

    @Test func badNumbersAreRejected() {
        #expect { try config(#"{"model_type": "llama", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 3, "vocab_size": 128}"#) } throws: {
            "\($0)".contains("num_key_value_heads")
        }
        #expect { try config(#"{"model_type": "llama", "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 128}"#) } throws: {
            "\($0)".contains("hidden_size")
        }
        #expect { try config(#"{"model_type": "llama", \#(base), "rope_scaling": {"rope_type": "dynamic", "factor": 4}}"#) } throws: {
            "\($0)".contains("dynamic")
        }
    }

    @Test func ggufNamesMapFromHuggingFaceNames() {
        let naming = WeightNaming.gguf
        #expect(naming.storeName("model.layers.12.mlp.down_proj.weight") == "blk.12.ffn_down.weight")
        #expect(naming.storeName("model.layers.0.self_attn.q_proj.bias") == "blk.0.attn_q.bias")
        #expect(naming.storeName("model.layers.3.self_attn.k_norm.weight") == "blk.3.attn_k_norm.weight")
        #expect(naming.storeName("model.embed_tokens.weight") == "token_embd.weight")
        #expect(naming.storeName("lm_head.weight") == "output.weight")
        #expect(WeightNaming.huggingFace.storeName("lm_head.weight") == "lm_head.weight")
        // Gemma's sandwich norms: the post-attention norm is not Llama's pre-MLP norm.
        #expect(naming.storeName("model.layers.2.post_attention_layernorm.weight") == "blk.2.ffn_norm.weight")
        #expect(naming.storeName("model.layers.2.post_attention_layernorm.weight", sandwichNorms: true)
                    == "blk.2.post_attention_norm.weight")
        #expect(naming.storeName("model.layers.2.pre_feedforward_layernorm.weight", sandwichNorms: true)
                    == "blk.2.ffn_norm.weight")
        #expect(naming.storeName("model.layers.2.post_feedforward_layernorm.weight", sandwichNorms: true)
                    == "blk.2.post_ffw_norm.weight")
    }

    /// transformers 4's Gemma 3 keys (rope_local_base_freq, sliding_window_pattern) and its
    /// defaults for what a config leaves out.
    /// Phi-3's older spellings: top-level `rope_scaling` of type su (LongRoPE's first name) with
    /// the pretraining length beside it; bad factor lists and partial rotary are named.
    @Test func readsPhi3LongRoPEAndRefusesWhatItCannotRun() throws {
        let factors = #""short_factor": [1, 1, 1, 1, 1, 1, 1, 1], "long_factor": [4, 4, 4, 4, 4, 4, 4, 4]"#
        let phi3 = try config(#"{"architectures": ["Phi3ForCausalLM"], \#(base), "max_position_embeddings": 131072, "original_max_position_embeddings": 4096, "sliding_window": 262144, "rope_scaling": {"type": "su", \#(factors)}}"#)
        let longRoPE = try #require(phi3.longRoPE)
        #expect(phi3.family == .phi3 && phi3.ropeScaling == .none && phi3.slidingWindow == 262144)
        #expect(longRoPE.originalMaxPositions == 4096 && longRoPE.longFactors == Array(repeating: 4, count: 8))
        // factor 131072 / 4096 = 32: sqrt(1 + ln 32 / ln 4096) (Phi-3-mini-128k's 1.1902).
        #expect(abs(longRoPE.attentionFactor - (1 + log(32.0) / log(4096.0)).squareRoot()) < 1e-12)
        #expect(!longRoPE.usesLongFactors(maxPosition: 4095) && longRoPE.usesLongFactors(maxPosition: 4096))
        #expect(phi3.attentionScale == 1 / Float(16).squareRoot() * Float(longRoPE.attentionFactor * longRoPE.attentionFactor))
        #expect {
            try config(#"{"architectures": ["Phi3ForCausalLM"], \#(base), "original_max_position_embeddings": 16, "rope_scaling": {"type": "longrope", "short_factor": [1, 1], "long_factor": [1, 1]}}"#)
        } throws: { "\($0)".contains("short_factor") && "\($0)".contains("8 numbers") }
        #expect {
            try config(#"{"architectures": ["Phi3ForCausalLM"], \#(base), "partial_rotary_factor": 0.75}"#)
        } throws: { "\($0)".contains("partial_rotary_factor") }
        #expect {
            try config(#"{"architectures": ["Phi3ForCausalLM"], \#(base), "rope_scaling": {"type": "longrope", \#(factors)}}"#)
        } throws: { "\($0)".contains("original_max_position_embeddings") }
    }

    @Test func readsOlderGemmaKeysAndDefaults() throws {
        let gemma3 = try config(#"{"architectures": ["Gemma3ForCausalLM"], "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 12, "num_attention_heads": 4, "vocab_size": 128, "head_dim": 32, "rope_theta": 1000000, "rope_local_base_freq": 10000, "sliding_window": 512, "sliding_window_pattern": 6, "rope_scaling": {"rope_type": "linear", "factor": 8.0}}"#)
        #expect(gemma3.family == .gemma3 && gemma3.tieWordEmbeddings)
        #expect((0..<12).filter { gemma3.slidingWindow(layer: $0) == 0 } == [5, 11])
        #expect(gemma3.usesLocalRope(layer: 0) && !gemma3.usesLocalRope(layer: 5))
        #expect(gemma3.ropeScaling == .linear(factor: 8) && gemma3.localRopeTheta == 10000)
        #expect(gemma3.attentionScale == 1.0 / 16 && gemma3.attentionLogitSoftcap == 0)
        let gemma2 = try config(#"{"model_type": "gemma2", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4, "num_attention_heads": 4, "vocab_size": 128}"#)
        #expect((0..<4).map { gemma2.slidingWindow(layer: $0) } == [4096, 0, 4096, 0])
        #expect(gemma2.attentionLogitSoftcap == 50 && gemma2.finalLogitSoftcap == 30 && gemma2.localRopeTheta == nil)
        #expect { try config(#"{"model_type": "gemma2", \#(base), "hidden_activation": "relu"}"#) } throws: {
            "\($0)".contains("hidden_activation")
        }
    }
}
