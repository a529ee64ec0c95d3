/// Tensor names of one layout. The Models layer asks for weights by their HF names; a GGUF
/// store answers to llama.cpp's names for the same tensors.
public enum WeightNaming: Sendable {
    case huggingFace
    case gguf

    /// The store's name for the HF tensor `name` (e.g. `model.layers.3.mlp.up_proj.weight`
    /// is `blk.3.ffn_up.weight` in GGUF). With `sandwichNorms` (Gemma), HF's
    /// `post_attention_layernorm` is the norm on the attention output (`post_attention_norm`),
    /// not Llama's norm before the MLP (`ffn_norm`, Gemma's `pre_feedforward_layernorm`).
    public func storeName(_ name: String, sandwichNorms: Bool = false) -> String {
        guard self == .gguf else { return name }
        switch name {
        case "model.embed_tokens.weight": return "token_embd.weight"
        case "model.norm.weight": return "output_norm.weight"
        case "lm_head.weight": return "output.weight"
        default: break
        }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return name }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: ".") else { return name }
        let layer = rest[..<dot]
        let tail = String(rest[rest.index(after: dot)...])
        if sandwichNorms, tail == "post_attention_layernorm.weight" { return "blk.\(layer).post_attention_norm.weight" }
        guard let mapped = Self.layerNames[tail] else { return name }
        return "blk.\(layer).\(mapped)"
    }

    private static let layerNames: [String: String] = [
        "input_layernorm.weight": "attn_norm.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "self_attn.q_proj.weight": "attn_q.weight",
        "self_attn.k_proj.weight": "attn_k.weight",
        "self_attn.v_proj.weight": "attn_v.weight",
        "self_attn.o_proj.weight": "attn_output.weight",
        "self_attn.q_proj.bias": "attn_q.bias",
        "self_attn.k_proj.bias": "attn_k.bias",
        "self_attn.v_proj.bias": "attn_v.bias",
        "self_attn.q_norm.weight": "attn_q_norm.weight",
        "self_attn.k_norm.weight": "attn_k_norm.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight",
        "mlp.up_proj.weight": "ffn_up.weight",
        // Phi-3's fused projections (llama.cpp keeps gate and up together as ffn_up).
        "self_attn.qkv_proj.weight": "attn_qkv.weight",
        "mlp.gate_up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
        "pre_feedforward_layernorm.weight": "ffn_norm.weight",
        "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
    ]
}
