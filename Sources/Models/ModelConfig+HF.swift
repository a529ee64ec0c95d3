import ModelLoading

extension ModelConfig {
    /// Reads an HF `config.json` (both the `rope_theta` / `rope_scaling` keys of older
    /// checkpoints and transformers 5's `rope_parameters`).
    public init(huggingFace config: JSONValue, source: String) throws {
        func fail(_ message: String) -> ModelConfigError { ModelConfigError(source: source, message: message) }
        func required(_ key: String) throws -> Int {
            guard let value = config[key]?.int else { throw fail("missing or non-integer '\(key)'") }
            return value
        }
        let names = (config["architectures"]?.strings ?? []) + [config["model_type"]?.string].compactMap { $0 }
        guard let family = names.lazy.compactMap(ModelFamily.resolve).first else {
            let given = names.isEmpty ? "none given" : names.map { "'\($0)'" }.joined(separator: ", ")
            throw fail("unknown architecture (\(given)); Tern runs \(ModelFamily.supportedNames.joined(separator: ", "))")
        }
        let hidden = try required("hidden_size")
        let heads = try required("num_attention_heads")
        let rope = config["rope_parameters"] ?? config["rope_scaling"]
        let theta = config["rope_theta"]?.double ?? config["rope_parameters"]?["rope_theta"]?.double ?? 10000

        var slidingWindow = 0
        if family == .mistral || family == .mixtral, let window = config["sliding_window"]?.int {
            slidingWindow = window
        } else if config["use_sliding_window"]?.bool == true {
            throw fail("use_sliding_window is set; Tern does not run Qwen's per-layer sliding windows")
        }
        let vocabulary = try required("vocab_size")
        func ids(_ key: String) throws -> [Int32] {
            guard let value = config[key], !value.isNull else { return [] }
            guard let ids = value.ints ?? value.int.map({ [$0] }) else {
                throw fail("'\(key)' is \(value), not a token id or a list of them")
            }
            return try Self.tokenIDs(ids, key: "'\(key)'", vocabularySize: vocabulary, source: source)
        }

        self.init(
            family: family,
            vocabularySize: vocabulary,
            hiddenSize: hidden,
            intermediateSize: try required("intermediate_size"),
            layerCount: try required("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: config["num_key_value_heads"]?.int ?? heads,
            headDim: config["head_dim"]?.int ?? (heads > 0 ? hidden / heads : 0),
            rmsNormEpsilon: Float(config["rms_norm_eps"]?.double ?? 1e-6),
            ropeTheta: theta,
            ropeScaling: family == .phi3 ? .none : try Self.ropeScaling(rope, config: config, fail: fail),
            ropeStyle: .neox,
            maxPositionEmbeddings: config["max_position_embeddings"]?.int ?? 4096,
            tieWordEmbeddings: config["tie_word_embeddings"]?.bool ?? false,
            slidingWindow: slidingWindow,
            bosTokenID: try ids("bos_token_id").first,
            eosTokenIDs: try ids("eos_token_id"))
        if family.isGemma { try readGemma(huggingFace: config, fail: fail) }
        if family == .phi3 { try readPhi3(huggingFace: config, fail: fail) }
        if family == .gptOss {
            try readGptOss(huggingFace: config, fail: fail)
        } else if family.isMixtureOfExperts {
            try readMoE(huggingFace: config, fail: fail)
        }
        checkpointQuantization = try Self.checkpointQuantization(config["quantization_config"], fail: fail)
        try validate(source: source)
    }

    /// `rope` (a `rope_parameters` or `rope_scaling` object) as Tern's scaling; `config` is the
    /// whole config.json, for the lengths YaRN defaults to.
    static func ropeScaling(
        _ rope: JSONValue?, config: JSONValue, fail: (String) -> ModelConfigError
    ) throws -> RoPEScaling {
        guard let rope, !rope.isNull else { return .none }
        let type = rope["rope_type"]?.string ?? rope["type"]?.string ?? "default"
        switch type {
        case "default":
            return .none
        case "linear":
            guard let factor = rope["factor"]?.double else { throw fail("rope scaling 'linear' without 'factor'") }
            return .linear(factor: factor)
        case "llama3":
            guard let factor = rope["factor"]?.double,
                  let low = rope["low_freq_factor"]?.double,
                  let high = rope["high_freq_factor"]?.double,
                  let original = rope["original_max_position_embeddings"]?.int
            else { throw fail("rope scaling 'llama3' needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings") }
            return .llama3(factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high,
                           originalMaxPositions: original)
        case "yarn":
            return .yarn(try yarn(rope, config: config, fail: fail))
        default:
            throw fail("unsupported rope scaling type '\(type)' (Tern supports default, linear, llama3 and yarn)")
        }
    }

    /// YaRN's fields with transformers' defaults: the pretraining length from the top-level
    /// `original_max_position_embeddings` (which transformers prefers), the rope object's, or
    /// `max_position_embeddings` (4096 where absent); a missing factor is max / original; beta_fast 32 and
    /// beta_slow 1 where absent or 0; truncate true where absent (null is false).
    static func yarn(_ rope: JSONValue, config: JSONValue, fail: (String) -> ModelConfigError) throws -> YaRN {
        let maxPositions = config["max_position_embeddings"]?.int ?? 4096
        let original = config["original_max_position_embeddings"]?.int ?? rope["original_max_position_embeddings"]?.int
            ?? maxPositions
        if let partial = rope["partial_rotary_factor"]?.double ?? config["partial_rotary_factor"]?.double, partial != 1 {
            throw fail("partial_rotary_factor \(partial): Tern runs RoPE over the whole head")
        }
        func number(_ key: String) throws -> Double? {
            guard let field = rope[key], !field.isNull else { return nil }
            guard let value = field.double else { throw fail("rope scaling 'yarn': '\(key)' is \(field), not a number") }
            return value
        }
        let factor = try number("factor") ?? Double(maxPositions) / Double(max(original, 1))
        var attentionFactor = try number("attention_factor")
        if attentionFactor == nil, let mscale = try number("mscale"), let all = try number("mscale_all_dim"),
           mscale != 0, all != 0 {
            attentionFactor = YaRN.mscale(factor, mscale) / YaRN.mscale(factor, all)
        }
        let truncate = rope["truncate"].map { $0.bool ?? false } ?? true
        return YaRN(factor: factor, betaFast: try number("beta_fast").flatMap { $0 == 0 ? nil : $0 } ?? 32,
                    betaSlow: try number("beta_slow").flatMap { $0 == 0 ? nil : $0 } ?? 1,
                    originalMaxPositions: original, truncate: truncate, attentionFactor: attentionFactor)
    }
}
