import ModelLoading

/// How a mixture-of-experts layer routes: each token's router logits go through a softmax
/// over all experts, the `expertsPerToken` largest probabilities pick the experts, and (when
/// `normalizeTopK`) those probabilities are divided by their sum. Mixtral always renormalises;
/// Qwen MoE models and OLMoE do iff `norm_topk_prob`.
public struct MoEConfig: Sendable, Equatable {
    public var expertCount: Int
    public var expertsPerToken: Int
    /// The hidden width of one routed expert's SwiGLU MLP.
    public var expertIntermediateSize: Int
    public var normalizeTopK: Bool
    /// Per layer, whether its MLP is the sparse expert block; the others take a dense MLP of
    /// `ModelConfig.intermediateSize` (Qwen MoE's `decoder_sparse_step` and `mlp_only_layers`).
    public var sparseLayers: [Bool]
    /// The hidden width of the shared expert every token also goes through, its output scaled
    /// by sigmoid(shared_expert_gate · x) (Qwen2-MoE); 0 = none.
    public var sharedExpertIntermediateSize: Int = 0
    /// What an expert computes between its gate/up and down projections.
    public var expertActivation: ExpertActivation = .silu

    /// The gated activation of the experts.
    public enum ExpertActivation: Sendable, Equatable {
        /// silu(gate) · up (SwiGLU).
        case silu
        /// gpt-oss's: g = min(gate, limit), u = clamp(up, ±limit), g · sigmoid(alpha · g) · (u + 1).
        case clampedSwiGLU(alpha: Float, limit: Float)
    }

    public init(expertCount: Int, expertsPerToken: Int, expertIntermediateSize: Int, normalizeTopK: Bool,
                sparseLayers: [Bool], sharedExpertIntermediateSize: Int = 0) {
        self.expertCount = expertCount
        self.expertsPerToken = expertsPerToken
        self.expertIntermediateSize = expertIntermediateSize
        self.normalizeTopK = normalizeTopK
        self.sparseLayers = sparseLayers
        self.sharedExpertIntermediateSize = sharedExpertIntermediateSize
    }

    /// HF Qwen MoE's rule: a layer is sparse unless listed in `mlp_only_layers`, and then only
    /// every `step`-th layer (1-based) is.
    static func sparseLayers(count: Int, step: Int, denseLayers: Set<Int>) -> [Bool] {
        (0..<count).map { !denseLayers.contains($0) && step > 0 && ($0 + 1) % step == 0 }
    }

    /// Checks the numbers against each other and the layer count.
    func validate(layerCount: Int, fail: (String) -> ModelConfigError) throws {
        if expertCount < 1 || expertCount > 1 << 12 {
            throw fail("num_experts (num_local_experts) is \(expertCount); Tern takes 1 to \(1 << 12) experts")
        }
        if expertsPerToken < 1 || expertsPerToken > expertCount {
            throw fail("num_experts_per_tok is \(expertsPerToken), but must be between 1 and the \(expertCount) experts")
        }
        for (name, value) in [("moe_intermediate_size", expertIntermediateSize),
                              ("shared_expert_intermediate_size", sharedExpertIntermediateSize)]
        where value < 0 || value > 1 << 22 || (value == 0 && name == "moe_intermediate_size") {
            throw fail("\(name) is \(value), outside 1...\(1 << 22)")
        }
        if sparseLayers.count != layerCount {
            throw fail("\(sparseLayers.count) sparse-layer flags for \(layerCount) layers")
        }
        if case .clampedSwiGLU(let alpha, let limit) = expertActivation {
            for (name, value) in [("swiglu_alpha", alpha), ("swiglu_limit", limit)] where !(value > 0 && value.isFinite) {
                throw fail("\(name) must be positive, got \(value)")
            }
        }
    }
}

extension ModelConfig {
    /// Whether `layer`'s MLP is the sparse expert block.
    public func isSparse(layer: Int) -> Bool { moe?.sparseLayers[layer] ?? false }

    /// Reads the expert fields of an HF `config.json`: Mixtral's `num_local_experts` (every
    /// layer sparse, experts of `intermediate_size`, always renormalised); Qwen MoE's
    /// `num_experts` (or `num_local_experts`), `moe_intermediate_size`, `norm_topk_prob`,
    /// `decoder_sparse_step`, `mlp_only_layers` and (Qwen2-MoE) `shared_expert_intermediate_size`;
    /// or OLMoE's (every layer sparse, experts of `intermediate_size`, `norm_topk_prob`), with
    /// transformers' defaults where a key is absent. `router_jitter_noise` is training-only.
    mutating func readMoE(huggingFace config: JSONValue, fail: (String) -> ModelConfigError) throws {
        func int(_ key: String, default value: Int) throws -> Int {
            guard let field = config[key], !field.isNull else { return value }
            guard let number = field.int else { throw fail("'\(key)' is \(field), not an integer") }
            return number
        }
        // The expert count is `num_local_experts` (Mixtral, and Qwen3-MoE as transformers 5
        // saves it) or `num_experts` (Qwen's published configs); either is read for any family.
        func expertCount(default value: Int) throws -> Int {
            let key = config["num_local_experts"].map { !$0.isNull } == true ? "num_local_experts" : "num_experts"
            return try int(key, default: value)
        }
        if family == .mixtral || family == .olmoe {
            // Every layer sparse, experts of `intermediate_size`; OLMoE's defaults are OLMoE-1B-7B's.
            let mixtral = family == .mixtral
            moe = MoEConfig(expertCount: try expertCount(default: mixtral ? 8 : 64),
                            expertsPerToken: try int("num_experts_per_tok", default: mixtral ? 2 : 8),
                            expertIntermediateSize: intermediateSize,
                            normalizeTopK: mixtral || config["norm_topk_prob"]?.bool == true,
                            sparseLayers: Array(repeating: true, count: layerCount))
            if let clip = config["clip_qkv"], !clip.isNull {
                throw fail("clip_qkv is \(clip); Tern does not clamp Q, K and V")
            }
            if !mixtral, config["attention_bias"]?.bool == true {
                throw fail("attention_bias is set; Tern runs OLMoE without attention biases")
            }
        } else {
            // transformers' defaults: Qwen3-MoE's are the 30B-A3B's, Qwen2-MoE's the 14B-A2.7B's.
            let qwen3 = family == .qwen3Moe
            var dense = Set<Int>()
            if let field = config["mlp_only_layers"], !field.isNull {
                guard let layers = field.ints else { throw fail("'mlp_only_layers' is \(field), not a list of layer indices") }
                dense = Set(layers)
            }
            moe = MoEConfig(
                expertCount: try expertCount(default: qwen3 ? 128 : 60),
                expertsPerToken: try int("num_experts_per_tok", default: qwen3 ? 8 : 4),
                expertIntermediateSize: try int("moe_intermediate_size", default: qwen3 ? 768 : 1408),
                normalizeTopK: config["norm_topk_prob"]?.bool ?? false,
                sparseLayers: MoEConfig.sparseLayers(count: layerCount, step: try int("decoder_sparse_step", default: 1),
                                                     denseLayers: dense),
                sharedExpertIntermediateSize: qwen3 ? 0 : try int("shared_expert_intermediate_size", default: 5632))
            // Tern's families fix the attention biases: Qwen2's Q/K/V have them, Qwen3's do not.
            if qwen3, config["attention_bias"]?.bool == true {
                throw fail("attention_bias is set; Tern runs Qwen3-MoE without attention biases")
            }
            if !qwen3, config["qkv_bias"]?.bool == false {
                throw fail("qkv_bias is false; Tern runs Qwen2-MoE with Q/K/V biases")
            }
        }
        if let activation = config["hidden_act"]?.string, activation != "silu" {
            throw fail("hidden_act '\(activation)' is not the SiLU Tern's experts run")
        }
    }

    /// Reads the expert keys of GGUF metadata (`{arch}.expert_count`, `expert_used_count`,
    /// `expert_feed_forward_length`, `expert_shared_feed_forward_length`). A layer is sparse
    /// where the file has its router (`blk.N.ffn_gate_inp.weight`). The renormalisation is
    /// `{arch}.expert_weights_norm` where given, else what each architecture does in llama.cpp
    /// and transformers: Mixtral (`llama`) and Qwen3-MoE renormalise, Qwen2-MoE and OLMoE do not.
    mutating func readMoE(gguf file: GGUFFile, architecture: String, fail: (String) -> ModelConfigError) throws {
        func int(_ key: String) -> Int? { file.metadata["\(architecture).\(key)"]?.int }
        guard let count = int("expert_count"), let used = int("expert_used_count") else {
            throw fail("missing or non-integer '\(architecture).expert_count' or '\(architecture).expert_used_count'")
        }
        // Files without the key still have the shared expert's tensors: their rows give its width.
        func sharedWidth() throws -> Int {
            if let width = int("expert_shared_feed_forward_length") { return width }
            for layer in 0..<layerCount {
                if let info = file.tensorInfo("blk.\(layer).ffn_gate_shexp.weight") { return info.shape.first ?? 0 }
            }
            throw fail("missing '\(architecture).expert_shared_feed_forward_length' and no ffn_gate_shexp tensor")
        }
        let normalize = file.metadata["\(architecture).expert_weights_norm"]?.bool ?? (family == .mixtral || family == .qwen3Moe)
        moe = MoEConfig(
            expertCount: count, expertsPerToken: used,
            expertIntermediateSize: int("expert_feed_forward_length") ?? intermediateSize, normalizeTopK: normalize,
            sparseLayers: (0..<layerCount).map { file.contains("blk.\($0).ffn_gate_inp.weight") },
            sharedExpertIntermediateSize: family == .qwen2Moe ? try sharedWidth() : 0)
    }
}
