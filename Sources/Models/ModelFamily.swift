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

    /// Q, K and V projections carry a bias (Qwen2).
    public var hasQKVBias: Bool { self == .qwen2 }
    /// RMSNorm over each head of Q and K before RoPE (Qwen3, Gemma 3).
    public var hasQKNorm: Bool { self == .qwen3 || self == .gemma3 }
    /// Gemma's differences from Llama, all together: embeddings scaled by √hidden, RMSNorm
    /// weights applied as (1 + w) (HF checkpoints store w; llama.cpp's converter already added
    /// the 1), a norm on the attention and on the MLP output before each residual add
    /// ("sandwich" norms), and a GeGLU MLP (tanh-approximated GELU) instead of SwiGLU.
    public var isGemma: Bool { self == .gemma2 || self == .gemma3 }
    /// Q, K and V stored as one matrix, and gate and up as one (Phi-3): split into views of
    /// their rows at load, so the forward pass sees Llama's layers.
    public var hasFusedProjections: Bool { self == .phi3 }

    /// The registry: HF `architectures` entries and `model_type` values, and GGUF
    /// `general.architecture` values, to a family. SmolLM2 is a Llama.
    public static func resolve(architecture name: String) -> ModelFamily? {
        switch name {
        case "LlamaForCausalLM", "llama": .llama
        case "MistralForCausalLM", "mistral": .mistral
        case "Qwen2ForCausalLM", "qwen2": .qwen2
        case "Qwen3ForCausalLM", "qwen3": .qwen3
        case "Gemma2ForCausalLM", "gemma2": .gemma2
        case "Gemma3ForCausalLM", "gemma3_text", "gemma3": .gemma3
        case "Phi3ForCausalLM", "phi3": .phi3
        default: nil
        }
    }

    /// Every name `resolve` accepts, for error messages.
    public static let supportedNames = [
        "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Gemma2ForCausalLM",
        "Gemma3ForCausalLM", "Phi3ForCausalLM", "llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text", "gemma3",
        "phi3",
    ]
}
