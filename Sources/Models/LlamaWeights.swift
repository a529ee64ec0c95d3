import CTernKernels
import ModelLoading
import Tensors

/// A linear layer y = x·Wᵀ (+ b). The weight stays in the mapped file, in its own type.
public struct Linear: Sendable {
    /// [outFeatures, inFeatures]
    public let weight: TensorData
    /// [outFeatures], if the layer has a bias.
    public let bias: [Float]?
    /// [outFeatures]: each row's scale when `weight` is FP8 (an FP8 checkpoint's
    /// `weight_scale`, a per-tensor scale repeated), else nil.
    public var weightScales: [Float]? = nil

    public var outFeatures: Int { weight.shape[0] }
    public var inFeatures: Int { weight.shape[1] }
}

/// A gated MLP: down(act(gate · x) * (up · x)), SiLU (SwiGLU) or Gemma's tanh GELU (GeGLU).
public struct MLPWeights: Sendable {
    public let gate: Linear            // [intermediate, hidden]
    public let up: Linear              // [intermediate, hidden]
    public let down: Linear            // [hidden, intermediate]
}

/// The weights of one decoder layer. Norm weights are stored as the factor they apply:
/// Gemma's HF (1 + w) already added up. Exactly one of `mlp` and `moe` is set.
public struct LlamaLayerWeights: Sendable {
    public let attentionNorm: [Float]  // [hidden]
    public var query: Linear           // [heads * headDim, hidden]
    public var key: Linear             // [kvHeads * headDim, hidden]
    public var value: Linear           // [kvHeads * headDim, hidden]
    public var output: Linear          // [hidden, heads * headDim]
    public let queryNorm: [Float]?     // [headDim] (Qwen3, Gemma 3), [heads * headDim] (OLMoE)
    public let keyNorm: [Float]?       // [headDim] (Qwen3, Gemma 3), [kvHeads * headDim] (OLMoE)
    /// [hidden] on the attention output before the residual add (Gemma)
    public let postAttentionNorm: [Float]?
    public let mlpNorm: [Float]        // [hidden]
    /// [hidden] on the MLP output before the residual add (Gemma)
    public let postMLPNorm: [Float]?
    /// The dense MLP; nil in a sparse layer of a mixture-of-experts model.
    public var mlp: MLPWeights?
    /// The router and experts of a sparse layer.
    public let moe: MoEWeights?
    /// [heads]: each query head's sink logit (gpt-oss), else nil.
    public var attentionSinks: [Float]? = nil
}

/// All weights of a Llama-family model, checked against its config.
public struct LlamaWeights: Sendable {
    public let embedding: TensorData   // [vocab, hidden]
    public let layers: [LlamaLayerWeights]
    public let finalNorm: [Float]      // [hidden]
    /// [vocab, hidden]; the embedding itself when the model ties them.
    public let lmHead: TensorData
    /// Per-pair RoPE frequency divisors of GGUF Llama 3.1 files (`rope_freqs.weight`).
    public let ropeFrequencyFactors: [Float]?
    /// The store the tensors point into; kept alive as long as the weights.
    public let store: any WeightStore
    /// The bytes of tensors copied out of the store (a tensor-parallel rank's O and down
    /// columns); empty for a whole model.
    public let shardCopies: [TensorBytes]

    init(embedding: TensorData, layers: [LlamaLayerWeights], finalNorm: [Float], lmHead: TensorData,
         ropeFrequencyFactors: [Float]?, store: any WeightStore, shardCopies: [TensorBytes]) {
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.lmHead = lmHead
        self.ropeFrequencyFactors = ropeFrequencyFactors
        self.store = store
        self.shardCopies = shardCopies
    }

    /// Looks up and checks every tensor; `progress(done, total)` is called per layer.
    public init(store: any WeightStore, config c: ModelConfig, naming: WeightNaming,
                progress: (Int, Int) -> Void = { _, _ in }) throws {
        self.store = store
        shardCopies = []
        let gemma = c.family.isGemma
        func storeName(_ name: String) -> String { naming.storeName(name, sandwichNorms: gemma) }
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> TensorData {
            try Self.computable(try store.tensor(storeName(name), shape: [rows, columns]), source: store.path)
        }
        func vector(_ name: String, _ count: Int) throws -> [Float] {
            let tensor = try store.tensor(storeName(name), shape: [count])
            return try Self.floats(tensor, source: store.path)
        }
        // Gemma's HF norms store w for a factor (1 + w); its GGUF files store 1 + w.
        let normOffset: Float = gemma && naming == .huggingFace ? 1 : 0
        func norm(_ name: String, _ count: Int) throws -> [Float] {
            try vector(name, count).map { $0 + normOffset }
        }
        /// A linear layer's weight [rows, columns] and, when it is FP8, its row scales.
        func weight(_ name: String, _ rows: Int, _ columns: Int) throws -> (TensorData, [Float]?) {
            let tensor = try store.tensor(storeName("\(name).weight"), shape: [rows, columns])
            guard tensor.dtype == .f8e4m3 else { return (try Self.computable(tensor, source: store.path), nil) }
            guard c.checkpointQuantization == .fp8 else {
                throw ModelConfigError(source: store.path, message: "tensor '\(tensor.name)' is F8_E4M3 but config.json has no FP8 quantization_config")
            }
            let scaleName = storeName("\(name).weight_scale")
            guard store.contains(scaleName) else {
                throw ModelConfigError(source: store.path, message: "FP8 tensor '\(tensor.name)' has no '\(scaleName)'")
            }
            let scale = try store.tensor(scaleName)
            let values = try Self.floats(scale, source: store.path)
            guard values.count == rows || values.count == 1 else {
                throw ModelConfigError(source: store.path, message: "'\(scaleName)' has shape \(scale.shape); FP8 scales are one per output channel (\(rows)) or one per tensor")
            }
            return (tensor, values.count == rows ? values : [Float](repeating: values[0], count: rows))
        }
        func linear(_ name: String, _ rows: Int, _ columns: Int, bias: Bool) throws -> Linear {
            let (tensor, scales) = try weight(name, rows, columns)
            return Linear(weight: tensor, bias: bias ? try vector("\(name).bias", rows) : nil, weightScales: scales)
        }

        /// A fused weight (Phi-3's qkv_proj, gate_up_proj) cut into views of its row ranges.
        func fusedLinears(_ name: String, _ parts: [Int]) throws -> [Linear] {
            let (fused, scales) = try weight(name, parts.reduce(0, +), c.hiddenSize)
            var start = 0
            return parts.enumerated().map { index, rows in
                defer { start += rows }
                return Linear(weight: fused.rowSlice(start ..< start + rows, name: "\(fused.name)[part \(index)]"), bias: nil,
                              weightScales: scales.map { Array($0[start ..< start + rows]) })
            }
        }

        embedding = try matrix("model.embed_tokens.weight", c.vocabularySize, c.hiddenSize)
        var layers: [LlamaLayerWeights] = []
        for index in 0..<c.layerCount {
            let p = "model.layers.\(index)"
            let qkv = c.family.hasFusedProjections
                ? try fusedLinears("\(p).self_attn.qkv_proj", [c.qDim, c.kvDim, c.kvDim])
                : [try linear("\(p).self_attn.q_proj", c.qDim, c.hiddenSize, bias: c.family.hasQKVBias),
                   try linear("\(p).self_attn.k_proj", c.kvDim, c.hiddenSize, bias: c.family.hasQKVBias),
                   try linear("\(p).self_attn.v_proj", c.kvDim, c.hiddenSize, bias: c.family.hasQKVBias)]
            let gateUp = c.isSparse(layer: index) ? []
                : c.family.hasFusedProjections
                ? try fusedLinears("\(p).mlp.gate_up_proj", [c.intermediateSize, c.intermediateSize])
                : [try linear("\(p).mlp.gate_proj", c.intermediateSize, c.hiddenSize, bias: false),
                   try linear("\(p).mlp.up_proj", c.intermediateSize, c.hiddenSize, bias: false)]
            layers.append(LlamaLayerWeights(
                attentionNorm: try norm("\(p).input_layernorm.weight", c.hiddenSize),
                query: qkv[0],
                key: qkv[1],
                value: qkv[2],
                output: try linear("\(p).self_attn.o_proj", c.hiddenSize, c.qDim, bias: c.family.hasOutputBias),
                queryNorm: c.family.hasQKNorm
                    ? try norm("\(p).self_attn.q_norm.weight", c.family.normsWholeQK ? c.qDim : c.headDim) : nil,
                keyNorm: c.family.hasQKNorm
                    ? try norm("\(p).self_attn.k_norm.weight", c.family.normsWholeQK ? c.kvDim : c.headDim) : nil,
                postAttentionNorm: gemma ? try norm("\(p).post_attention_layernorm.weight", c.hiddenSize) : nil,
                mlpNorm: try norm("\(p).\(gemma ? "pre_feedforward" : "post_attention")_layernorm.weight", c.hiddenSize),
                postMLPNorm: gemma ? try norm("\(p).post_feedforward_layernorm.weight", c.hiddenSize) : nil,
                mlp: c.isSparse(layer: index) ? nil : MLPWeights(
                    gate: gateUp[0],
                    up: gateUp[1],
                    down: try linear("\(p).mlp.down_proj", c.hiddenSize, c.intermediateSize, bias: false)),
                moe: c.isSparse(layer: index)
                    ? try MoEWeights(store: store, config: c, layer: index, naming: naming) : nil,
                attentionSinks: c.family.hasAttentionSinks ? try vector("\(p).self_attn.sinks", c.headCount) : nil))
            progress(index + 1, c.layerCount)
        }
        self.layers = layers
        finalNorm = try norm("model.norm.weight", c.hiddenSize)
        let lmHeadName = storeName("lm_head.weight")
        if !c.tieWordEmbeddings || store.contains(lmHeadName) {
            lmHead = try matrix("lm_head.weight", c.vocabularySize, c.hiddenSize)
        } else {
            lmHead = embedding
        }
        ropeFrequencyFactors = store.contains("rope_freqs.weight")
            ? try Self.floats(try store.tensor("rope_freqs.weight", shape: [c.headDim / 2]), source: store.path)
            : nil
    }

    /// `tensor`, checked to be a matrix the CPU matmul takes: a supported type, and whole
    /// quantization blocks in each row.
    static func computable(_ tensor: TensorData, source: String) throws -> TensorData {
        guard tern_type_supported(Int32(tensor.dtype.rawValue)) != 0 else {
            throw ModelConfigError(source: source,
                                   message: "tensor '\(tensor.name)' has type \(tensor.dtype), which the CPU backend does not compute with")
        }
        guard tensor.columns % tensor.dtype.blockSize == 0 else {
            throw ModelConfigError(source: source,
                                   message: "tensor '\(tensor.name)': \(tensor.columns) columns is not a multiple of \(tensor.dtype)'s block of \(tensor.dtype.blockSize)")
        }
        return tensor
    }

    /// A small tensor (norm weight, bias) as Floats, whatever its stored type.
    static func floats(_ tensor: TensorData, source: String) throws -> [Float] {
        guard tern_type_supported(Int32(tensor.dtype.rawValue)) != 0 else {
            throw ModelConfigError(source: source, message: "tensor '\(tensor.name)' has unsupported type \(tensor.dtype)")
        }
        var result = [Float](repeating: 0, count: tensor.elementCount)
        result.withUnsafeMutableBufferPointer { out in
            tern_dequantize_rows(tensor.bytes.baseAddress, Int32(tensor.dtype.rawValue),
                                 Int64(tensor.elementCount), 0, 1, out.baseAddress)
        }
        return result
    }
}
