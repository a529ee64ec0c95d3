import ModelLoading

/// Gemma 2 and 3's own hyper-parameters: which layers are local (sliding-window) and which
/// global, the local layers' RoPE base, the attention scale and the soft-caps.
extension ModelConfig {
    /// Every `period`-th layer global, the others local: Gemma 2 alternates (2), Gemma 3 has
    /// five local layers to a global one (6). HF's `(i + 1) % period != 0`, llama.cpp's
    /// `set_swa_pattern`.
    static func slidingLayers(count: Int, period: Int) -> [Bool] {
        (0..<count).map { period <= 0 || ($0 + 1) % period != 0 }
    }

    /// HF `layer_types` as per-layer sliding flags (Gemma, gpt-oss).
    static func slidingLayers(types: [String], fail: (String) -> ModelConfigError) throws -> [Bool] {
        try types.map { type in
            switch type {
            case "sliding_attention": true
            case "full_attention": false
            default: throw fail("unknown layer type '\(type)'")
            }
        }
    }

    /// Reads Gemma's fields of an HF `config.json` (transformers 4's `rope_local_base_freq` and
    /// `sliding_window_pattern`, and transformers 5's `layer_types` and per-layer-type
    /// `rope_parameters`), with transformers' defaults where a key is absent.
    mutating func readGemma(huggingFace config: JSONValue, fail: (String) -> ModelConfigError) throws {
        let activation = config["hidden_activation"]?.string ?? config["hidden_act"]?.string ?? "gelu_pytorch_tanh"
        guard activation == "gelu_pytorch_tanh" || activation == "gelu_tanh" else {
            throw fail("hidden_activation '\(activation)' is not the tanh GELU Tern runs for Gemma")
        }
        if config["use_bidirectional_attention"]?.bool == true {
            throw fail("use_bidirectional_attention is set; Tern runs Gemma as a causal decoder")
        }
        tieWordEmbeddings = config["tie_word_embeddings"]?.bool ?? true
        slidingWindow = config["sliding_window"]?.int ?? 4096
        if let types = config["layer_types"]?.strings {
            slidingWindowLayers = try Self.slidingLayers(types: types, fail: fail)
        } else {
            let period = config["sliding_window_pattern"]?.int ?? (family == .gemma3 ? 6 : 2)
            slidingWindowLayers = Self.slidingLayers(count: layerCount, period: period)
        }
        queryPreAttentionScalar = config["query_pre_attn_scalar"]?.double ?? 256
        func cap(_ key: String, default value: Float) -> Float {
            guard let field = config[key] else { return value }
            return field.double.map(Float.init) ?? 0
        }
        attentionLogitSoftcap = cap("attn_logit_softcapping", default: family == .gemma2 ? 50 : 0)
        finalLogitSoftcap = cap("final_logit_softcapping", default: family == .gemma2 ? 30 : 0)
        guard family == .gemma3 else { return }
        if let global = config["rope_parameters"]?["full_attention"] {
            ropeTheta = global["rope_theta"]?.double ?? 1_000_000
            ropeScaling = try Self.ropeScaling(global, config: config, fail: fail)
            let local = config["rope_parameters"]?["sliding_attention"]
            if let local, try Self.ropeScaling(local, config: config, fail: fail) != .none {
                throw fail("rope scaling of the sliding layers is not supported")
            }
            localRopeTheta = local?["rope_theta"]?.double ?? 10000
        } else {
            ropeTheta = config["rope_theta"]?.double ?? 1_000_000
            localRopeTheta = config["rope_local_base_freq"]?.double ?? 10000
        }
    }

    /// Reads Gemma's fields of GGUF metadata as llama.cpp does: the layer pattern is fixed by
    /// the architecture, local layers of Gemma 3 take base 10000 (or `rope.freq_base_swa`)
    /// unscaled, and the attention
    /// scale is 1/√head_dim except on the 27B models, whose `query_pre_attn_scalar` is
    /// hidden / heads (llama.cpp tells them by their layer count).
    mutating func readGemma(gguf file: GGUFFile, architecture: String) {
        func double(_ key: String) -> Double? { file.metadata["\(architecture).\(key)"]?.double }
        let is27B = (family == .gemma2 && layerCount == 46) || (family == .gemma3 && layerCount == 62)
        queryPreAttentionScalar = is27B ? Double(hiddenSize / headCount) : Double(headDim)
        slidingWindowLayers = Self.slidingLayers(count: layerCount, period: family == .gemma3 ? 6 : 2)
        attentionLogitSoftcap = Float(double("attn_logit_softcapping") ?? 0)
        finalLogitSoftcap = Float(double("final_logit_softcapping") ?? 0)
        if family == .gemma3 { localRopeTheta = double("rope.freq_base_swa") ?? 10000 }
    }
}
