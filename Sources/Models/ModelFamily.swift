/// The decoder families Tern runs through one implementation. Each differs from Llama only
/// in a few switches, listed here rather than spread through the forward pass.
public enum ModelFamily: String, Sendable, CaseIterable {
    case llama
    case mistral
    case qwen2
    case qwen3
    case gemma2
    case gemma3
    case phi3
    /// Mistral's attention with a sparse mixture of SwiGLU experts in every layer.
    case mixtral
    /// Qwen3's attention (Q/K norms) with sparse expert layers.
    case qwen3Moe
    /// Qwen2's attention (Q/K/V bias) with sparse expert layers and a gated shared expert.
    case qwen2Moe
    /// OLMoE: RMSNorm over the whole Q and K projections, then sparse expert layers.
    case olmoe
    /// gpt-oss: Q/K/V/O biases, a learned attention sink per head, sliding and full layers
    /// alternating, YaRN RoPE, and biased experts with a clamped SwiGLU (`ModelConfig+GptOss`).
    case gptOss

    /// Q, K and V projections carry a bias (Qwen2, gpt-oss).
    public var hasQKVBias: Bool { self == .qwen2 || self == .qwen2Moe || self == .gptOss }
    /// The attention's output projection carries a bias (gpt-oss).
    public var hasOutputBias: Bool { self == .gptOss }
    /// Each query head has a learned logit that joins its softmax's denominator with no value
    /// (gpt-oss's attention sinks).
    public var hasAttentionSinks: Bool { self == .gptOss }
    /// RMSNorm over each head of Q and K before RoPE (Qwen3, Gemma 3).
    public var hasQKNorm: Bool { self == .qwen3 || self == .qwen3Moe || self == .gemma3 || self == .olmoe }
    /// The Q and K norms span the whole projection (all heads, one weight per element), not
    /// each head (OLMoE).
    public var normsWholeQK: Bool { self == .olmoe }
    /// Some layers' MLP is a router over experts (`ModelConfig.moe` says which and how).
    public var isMixtureOfExperts: Bool {
        self == .mixtral || self == .qwen3Moe || self == .qwen2Moe || self == .olmoe || self == .gptOss
    }
    /// Gemma's differences from Llama, all together: embeddings scaled by √hidden, RMSNorm
    /// weights applied as (1 + w) (HF checkpoints store w; llama.cpp's converter already added
    /// the 1), a norm on the attention and on the MLP output before each residual add
    /// ("sandwich" norms), and a GeGLU MLP (tanh-approximated GELU) instead of SwiGLU.
    public var isGemma: Bool { self == .gemma2 || self == .gemma3 }
    /// Q, K and V stored as one matrix, and gate and up as one (Phi-3): split into views of
    /// their rows at load, so the forward pass sees Llama's layers.
    public var hasFusedProjections: Bool { self == .phi3 }

    /// The registry: HF `architectures` entries and `model_type` values, and GGUF
    /// `general.architecture` values, to a family. SmolLM2 is a Llama; a GGUF Mixtral is a
    /// `llama` with `llama.expert_count` (`ModelConfig(gguf:)` tells them apart).
    public static func resolve(architecture name: String) -> ModelFamily? {
        switch name {
        case "LlamaForCausalLM", "llama": .llama
        case "MistralForCausalLM", "mistral": .mistral
        case "Qwen2ForCausalLM", "qwen2": .qwen2
        case "Qwen3ForCausalLM", "qwen3": .qwen3
        case "Gemma2ForCausalLM", "gemma2": .gemma2
        case "Gemma3ForCausalLM", "gemma3_text", "gemma3": .gemma3
        case "Phi3ForCausalLM", "phi3": .phi3
        case "MixtralForCausalLM", "mixtral": .mixtral
        case "Qwen3MoeForCausalLM", "qwen3_moe", "qwen3moe": .qwen3Moe
        case "Qwen2MoeForCausalLM", "qwen2_moe", "qwen2moe": .qwen2Moe
        case "OlmoeForCausalLM", "olmoe": .olmoe
        case "GptOssForCausalLM", "gpt_oss": .gptOss
        default: nil
        }
    }

    /// Every name `resolve` accepts, for error messages.
    public static let supportedNames = [
        "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Gemma2ForCausalLM",
        "Gemma3ForCausalLM", "Phi3ForCausalLM", "MixtralForCausalLM", "Qwen3MoeForCausalLM", "Qwen2MoeForCausalLM",
        "OlmoeForCausalLM", "GptOssForCausalLM", "llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text", "gemma3", "phi3", "mixtral",
        "qwen3_moe", "qwen3moe", "qwen2_moe", "qwen2moe", "olmoe", "gpt_oss",
    ]
}
