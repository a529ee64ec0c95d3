import ModelLoading

/// gpt-oss's own hyper-parameters (transformers' `GptOssConfig`): which layers slide, YaRN
/// RoPE, and the experts.
///
/// The attention has Q/K/V/O biases and a learned sink per head (`ModelFamily.hasOutputBias`,
/// `hasAttentionSinks`); `layer_types` alternates sliding (`sliding_window` keys) and full
/// layers. Every MLP is sparse: the router (with a bias) takes the top-k logits and a softmax
/// over those k, which is the softmax over all experts renormalised over the chosen ones
/// (`normalizeTopK`); each expert's gate/up and down carry biases and it activates with
/// `clampedSwiGLU(swiglu_alpha, swiglu_limit)`. The expert width is `intermediate_size`.
extension ModelConfig {
    /// Reads gpt-oss's fields of an HF `config.json`, with `GptOssConfig`'s defaults (those of
    /// gpt-oss-20b) where a key is absent: YaRN (factor 32 over 4096 positions, untruncated)
    /// on base 150000, every other layer sliding over 128 keys, 128 experts top-4.
    mutating func readGptOss(huggingFace config: JSONValue, fail: (String) -> ModelConfigError) throws {
        func present(_ key: String) -> JSONValue? {
            guard let field = config[key], !field.isNull else { return nil }
            return field
        }
        func int(_ key: String, default value: Int) throws -> Int {
            guard let field = present(key) else { return value }
            guard let number = field.int else { throw fail("'\(key)' is \(field), not an integer") }
            return number
        }
        func number(_ key: String, default value: Double) throws -> Double {
            guard let field = present(key) else { return value }
            guard let number = field.double else { throw fail("'\(key)' is \(field), not a number") }
            return number
        }
        if let method = present("quantization_config")?["quant_method"]?.string, method == "mxfp4" {
            throw fail("quantization_config: gpt-oss's MXFP4 experts are not supported; use a checkpoint with BF16 experts")
        }
        if present("attention_bias")?.bool == false {
            throw fail("attention_bias is false; Tern runs gpt-oss with Q/K/V/O biases")
        }
        if present("rms_norm_eps") == nil { rmsNormEpsilon = 1e-5 }
        if present("max_position_embeddings") == nil { maxPositionEmbeddings = 131_072 }
        if present("rope_theta") == nil, config["rope_parameters"]?["rope_theta"]?.double == nil {
            ropeTheta = 150_000
        }
        if present("rope_parameters") == nil, present("rope_scaling") == nil {
            ropeScaling = .yarn(YaRN(factor: 32, betaFast: 32, betaSlow: 1, originalMaxPositions: 4096, truncate: false))
        }

        slidingWindow = try int("sliding_window", default: 128)
        if let types = present("layer_types") {
            guard let names = types.strings else { throw fail("'layer_types' is \(types), not a list of layer types") }
            slidingWindowLayers = try Self.slidingLayers(types: names, fail: fail)
        } else {
            slidingWindowLayers = Self.slidingLayers(count: layerCount, period: 2)
        }

        var experts = MoEConfig(expertCount: try int("num_local_experts", default: 128),
                                expertsPerToken: try int("num_experts_per_tok", default: 4),
                                expertIntermediateSize: intermediateSize, normalizeTopK: true,
                                sparseLayers: Array(repeating: true, count: layerCount))
        experts.expertActivation = .clampedSwiGLU(alpha: Float(try number("swiglu_alpha", default: 1.702)),
                                                  limit: Float(try number("swiglu_limit", default: 7.0)))
        moe = experts
    }
}
