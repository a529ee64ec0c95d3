import ModelLoading

extension ModelConfig {
    /// Reads the `{arch}.*` keys of a GGUF file. `llama` files (Llama, Mistral, SmolLM2) had
    /// their Q/K rows permuted by the converter and take interleaved RoPE; Qwen files were
    /// not permuted and take the neox form.
    public init(gguf file: GGUFFile) throws {
        let source = file.path
        func fail(_ message: String) -> ModelConfigError { ModelConfigError(source: source, message: message) }
        guard let architecture = file.metadata["general.architecture"]?.string else {
            throw fail("missing 'general.architecture'")
        }
        if architecture == "gpt-oss" {
            throw fail("gpt-oss GGUF files are not supported yet; run gpt-oss from its HF folder (BF16 experts)")
        }
        guard var family = ModelFamily.resolve(architecture: architecture) else {
            throw fail("unknown architecture '\(architecture)'; Tern runs llama (and Mixtral), mistral, qwen2, qwen3, qwen2moe, qwen3moe, olmoe, gemma2, gemma3 and phi3 GGUF files")
        }
        func int(_ key: String) -> Int? { file.metadata["\(architecture).\(key)"]?.int }
        // llama.cpp writes Mixtral as a `llama` with experts.
        if family == .llama, (int("expert_count") ?? 0) > 0 { family = .mixtral }
        func double(_ key: String) -> Double? { file.metadata["\(architecture).\(key)"]?.double }
        func required(_ key: String) throws -> Int {
            guard let value = int(key) else { throw fail("missing or non-integer '\(architecture).\(key)'") }
            return value
        }
        let hidden = try required("embedding_length")
        let heads = try required("attention.head_count")
        let vocabulary = int("vocab_size") ?? file.metadata["tokenizer.ggml.tokens"]?.array?.count
        guard let vocabulary else { throw fail("neither '\(architecture).vocab_size' nor 'tokenizer.ggml.tokens' gives the vocabulary size") }

        var scaling = RoPEScaling.none
        switch file.metadata["\(architecture).rope.scaling.type"]?.string {
        case nil, "none":
            break
        case "linear":
            guard let factor = double("rope.scaling.factor") else { throw fail("linear rope scaling without '\(architecture).rope.scaling.factor'") }
            scaling = .linear(factor: factor)
        case let other?:
            throw fail("unsupported rope scaling type '\(other)'")
        }
        func ids(_ key: String) throws -> [Int32] {
            guard let value = file.metadata[key] else { return [] }
            guard let id = value.int else { throw fail("'\(key)' is \(value), not an integer") }
            return try Self.tokenIDs([id], key: "'\(key)'", vocabularySize: vocabulary, source: source)
        }
        let eos = try ids("tokenizer.ggml.eos_token_id") + ids("tokenizer.ggml.eot_token_id")
        let headDim = int("attention.key_length") ?? (heads > 0 ? hidden / heads : 0)
        if let rotary = file.metadata["\(architecture).rope.dimension_count"] {
            // Tern rotates the whole head; a partial (or impossible) rotary width is refused.
            guard rotary.int == headDim else {
                throw fail("'\(architecture).rope.dimension_count' is \(rotary), but Tern runs RoPE over the whole head "
                           + "(head_dim \(headDim))")
            }
        }
        let permuted: Set<ModelFamily> = [.llama, .mistral, .mixtral]
        let ropeStyle: RoPEStyle = permuted.contains(family) ? .interleaved : .neox

        self.init(
            family: family == .mistral ? .llama : family,
            vocabularySize: vocabulary,
            hiddenSize: hidden,
            intermediateSize: try required("feed_forward_length"),
            layerCount: try required("block_count"),
            headCount: heads,
            kvHeadCount: int("attention.head_count_kv") ?? heads,
            headDim: headDim,
            rmsNormEpsilon: Float(double("attention.layer_norm_rms_epsilon") ?? 1e-6),
            ropeTheta: double("rope.freq_base") ?? 10000,
            ropeScaling: scaling,
            ropeStyle: ropeStyle,
            maxPositionEmbeddings: int("context_length") ?? 4096,
            tieWordEmbeddings: !file.contains("output.weight"),
            slidingWindow: int("attention.sliding_window") ?? 0,
            bosTokenID: try ids("tokenizer.ggml.bos_token_id").first,
            eosTokenIDs: Array(Set(eos)).sorted())
        if family.isGemma { readGemma(gguf: file, architecture: architecture) }
        if family == .phi3 { try readPhi3(gguf: file, fail: fail) }
        if family.isMixtureOfExperts { try readMoE(gguf: file, architecture: architecture, fail: fail) }
        try validate(source: source)
    }
}
