import CPUBackend
import CTernKernels
import Tensors

/// The forward pass of every `ModelFamily` on the CPU backend.
///
/// Per layer: RMSNorm → Q/K/V projections (+bias, Qwen2) → per-head Q/K norm (Qwen3,
/// Gemma 3; over the whole projections in OLMoE) → RoPE → K/V written into the paged cache →
/// paged attention → output projection added to the residual → RMSNorm → SwiGLU MLP added to
/// the residual (in a sparse layer of a mixture-of-experts model, the routed experts of
/// `MoEBlock`). Gemma scales the
/// embeddings by √hidden, normalizes the attention and MLP outputs before their residual adds,
/// takes a GeGLU MLP, and interleaves sliding-window (local) layers, with their own RoPE base
/// in Gemma 3, with global ones (`ModelConfig.slidingWindowLayers` says how the KV cache
/// serves them). Decode time is spent almost
/// all in the matmuls dequantizing the weights in registers (the LM head alone is a fifth
/// of it on SmolLM2); attention grows with the context. Q/K/V and gate/up each run as one
/// pool job, so the workers are waited for five times a layer, not eight. Scratch buffers
/// grow to the largest batch seen and are then reused.
public final class LlamaCPUModel: HiddenStatesExecutor {
    public let config: ModelConfig
    public let weights: LlamaWeights
    /// The RoPE of the global layers (of every layer, unless `localRope` is set).
    public let rope: RotaryEmbedding
    /// The RoPE of the sliding-window layers where their base differs (Gemma 3).
    public let localRope: RotaryEmbedding?
    /// Phi-3's LongRoPE with its long factors (`rope` has the short ones), else nil.
    public let longRope: RotaryEmbedding?
    public let pool: CPUThreadPool
    public let kvCache: CPUKVCache
    public var blockSize: Int { kvCache.blockSize }
    public var blockCount: Int { kvCache.blockCount }

    private let residual = FloatBuffer(count: 0)     // (T, hidden)
    private let normed = FloatBuffer(count: 0)       // (T, hidden)
    private let query = FloatBuffer(count: 0)        // (T, heads * headDim)
    private let key = FloatBuffer(count: 0)          // (T, kvHeads * headDim)
    private let value = FloatBuffer(count: 0)        // (T, kvHeads * headDim)
    private let attention = FloatBuffer(count: 0)    // (T, heads * headDim)
    private let projected = FloatBuffer(count: 0)    // (T, hidden): a block's output before its norm (Gemma)
    private let gate = FloatBuffer(count: 0)         // (T, intermediate)
    private let up = FloatBuffer(count: 0)           // (T, intermediate)
    private let lastHidden = FloatBuffer(count: 0)   // (B', hidden)
    private let logits = FloatBuffer(count: 0)       // (B', vocab)
    /// Per layer, the projections that read the same normed input, run as one pool job.
    private let queryKeyValue: [LinearGroup]
    /// nil for a sparse layer, whose MLP `moeBlock` runs.
    private let gateUp: [LinearGroup?]
    private let moeBlock: MoEBlock?

    /// Linear layers on one input, each into its own buffer. When they share a weight type
    /// and input width they run as one `tern_matmul_many`, so the workers are waited for
    /// once, not once per layer.
    private struct LinearGroup {
        let layers: [Linear]
        let outputs: [FloatBuffer]        // [layers]
        let weights: [UnsafeRawPointer?]  // [layers]
        let rows: [Int64]                 // [layers]
        let fused: Bool

        init(_ layers: [Linear], into outputs: [FloatBuffer]) {
            self.layers = layers
            self.outputs = outputs
            weights = layers.map { $0.weight.bytes.baseAddress }
            rows = layers.map { Int64($0.outFeatures) }
            fused = layers.allSatisfy { $0.weight.dtype == layers[0].weight.dtype && $0.inFeatures == layers[0].inFeatures }
        }
    }

    public init(config: ModelConfig, weights: LlamaWeights, pool: CPUThreadPool, blockCount: Int,
                blockSize: Int) throws {
        self.config = config
        self.weights = weights
        self.pool = pool
        rope = config.rotaryEmbedding(frequencyFactors: weights.ropeFrequencyFactors)
        longRope = config.longRotaryEmbedding
        localRope = config.localRotaryEmbedding
        queryKeyValue = weights.layers.map { [query, key, value] in
            LinearGroup([$0.query, $0.key, $0.value], into: [query, key, value])
        }
        gateUp = weights.layers.map { [gate, up] in $0.mlp.map { LinearGroup([$0.gate, $0.up], into: [gate, up]) } }
        moeBlock = config.moe.map { MoEBlock(config: $0, hiddenSize: config.hiddenSize, pool: pool) }
        kvCache = try CPUKVCache(layerCount: config.layerCount, blockCount: blockCount, blockSize: blockSize,
                                 kvDim: config.kvDim)
    }

    private func reserve(tokens: Int, logitRows: Int) {
        let c = config
        residual.reserve(tokens * c.hiddenSize)
        normed.reserve(tokens * c.hiddenSize)
        query.reserve(tokens * c.qDim)
        key.reserve(tokens * c.kvDim)
        value.reserve(tokens * c.kvDim)
        attention.reserve(tokens * c.qDim)
        if c.family.isGemma { projected.reserve(tokens * c.hiddenSize) }
        gate.reserve(tokens * c.intermediateSize)
        up.reserve(tokens * c.intermediateSize)
        lastHidden.reserve(logitRows * c.hiddenSize)
        logits.reserve(logitRows * c.vocabularySize)
    }

    public func execute(_ batch: ForwardBatch) throws -> UnsafeBufferPointer<Float> {
        let c = config
        let tokens = batch.tokenCount
        let logitRows = batch.logitsIndices.count
        guard tokens > 0 else { return UnsafeBufferPointer(start: logits.pointer, count: 0) }
        reserve(tokens: tokens, logitRows: logitRows)
        runLayers(batch)

        // Only the rows that sample need the final norm and the (large) LM head.
        for (row, flat) in batch.logitsIndices.enumerated() {
            (lastHidden.pointer + row * c.hiddenSize)
                .update(from: residual.pointer + Int(flat) * c.hiddenSize, count: c.hiddenSize)
        }
        rmsNorm(lastHidden.pointer, weights.finalNorm, into: lastHidden.pointer, rows: logitRows, dim: c.hiddenSize)
        matmul(weights.lmHead, lastHidden.pointer, tokens: logitRows, into: logits.pointer)
        if c.finalLogitSoftcap > 0 {
            tern_softcap(logits.pointer, Int64(logitRows * c.vocabularySize), c.finalLogitSoftcap)
        }
        return UnsafeBufferPointer(start: logits.pointer, count: logitRows * c.vocabularySize)
    }

    public func executeHiddenStates(_ batch: ForwardBatch) throws -> UnsafeBufferPointer<Float> {
        let c = config
        let tokens = batch.tokenCount
        guard tokens > 0 else { return UnsafeBufferPointer(start: normed.pointer, count: 0) }
        reserve(tokens: tokens, logitRows: batch.logitsIndices.count)
        runLayers(batch)
        rmsNorm(residual.pointer, weights.finalNorm, into: normed.pointer, rows: tokens, dim: c.hiddenSize)
        return UnsafeBufferPointer(start: normed.pointer, count: tokens * c.hiddenSize)
    }

    /// The embedding lookup and every layer: `residual` ends as the last layer's output.
    private func runLayers(_ batch: ForwardBatch) {
        let c = config
        let tokens = batch.tokenCount
        batch.tokenIDs.withUnsafeBufferPointer { ids in
            tern_get_rows(weights.embedding.bytes.baseAddress, dtypeID(weights.embedding), Int64(c.hiddenSize),
                          ids.baseAddress, Int64(tokens), residual.pointer)
        }
        if c.embeddingScale != 1 { tern_scale(residual.pointer, Int64(tokens * c.hiddenSize), c.embeddingScale) }
        for (index, layer) in weights.layers.enumerated() {
            attentionBlock(layer: layer, index: index, batch: batch)
            mlpBlock(layer: layer, index: index, tokens: tokens)
        }
    }

    private func attentionBlock(layer: LlamaLayerWeights, index: Int, batch: ForwardBatch) {
        let c = config
        let tokens = batch.tokenCount
        rmsNorm(residual.pointer, layer.attentionNorm, into: normed.pointer, rows: tokens, dim: c.hiddenSize)
        linears(queryKeyValue[index], normed.pointer, tokens: tokens)
        if let queryNorm = layer.queryNorm, let keyNorm = layer.keyNorm {
            if c.family.normsWholeQK {
                rmsNorm(query.pointer, queryNorm, into: query.pointer, rows: tokens, dim: c.qDim)
                rmsNorm(key.pointer, keyNorm, into: key.pointer, rows: tokens, dim: c.kvDim)
            } else {
                rmsNorm(query.pointer, queryNorm, into: query.pointer, rows: tokens * c.headCount, dim: c.headDim)
                rmsNorm(key.pointer, keyNorm, into: key.pointer, rows: tokens * c.kvHeadCount, dim: c.headDim)
            }
        }
        let rope = c.usesLocalRope(layer: index) ? localRope ?? self.rope : self.rope
        if let longRope, let longRoPE = c.longRoPE {
            // LongRoPE: each sequence's tokens of this step take the long factors if the
            // sequence reaches past the pretraining length in it.
            for sequence in 0..<batch.sequenceCount {
                let start = Int(batch.queryStartLocations[sequence]), end = Int(batch.queryStartLocations[sequence + 1])
                guard end > start else { continue }
                let long = longRoPE.usesLongFactors(maxPosition: Int(batch.positions[end - 1]))
                applyRope(long ? longRope : rope, batch: batch, tokens: start ..< end)
            }
        } else {
            applyRope(rope, batch: batch, tokens: 0 ..< tokens)
        }
        let keys = kvCache.keys(layer: index)
        let values = kvCache.values(layer: index)
        batch.slotMapping.withUnsafeBufferPointer { slots in
            tern_kv_write(key.pointer, value.pointer, Int64(tokens), Int64(c.kvDim), slots.baseAddress, keys, values)
        }
        batch.queryStartLocations.withUnsafeBufferPointer { starts in
            batch.sequenceLengths.withUnsafeBufferPointer { lengths in
                batch.blockTable.withUnsafeBufferPointer { table in
                    tern_paged_attention(
                        pool.pointer, query.pointer, keys, values, Int32(kvCache.blockSize), Int32(c.headCount),
                        Int32(c.kvHeadCount), Int32(c.headDim), Int32(batch.sequenceCount), starts.baseAddress,
                        lengths.baseAddress, table.baseAddress, Int32(batch.maxBlocksPerSequence),
                        c.attentionScale, Int32(c.slidingWindow(layer: index)), c.attentionLogitSoftcap,
                        attention.pointer)
                }
            }
        }
        addToResidual(layer.output, attention.pointer, tokens: tokens, norm: layer.postAttentionNorm)
    }

    /// RoPE on the query and key rows of `tokens`.
    private func applyRope(_ rope: RotaryEmbedding, batch: ForwardBatch, tokens: Range<Int>) {
        let c = config
        let neox: Int32 = rope.style == .neox ? 1 : 0
        batch.positions.withUnsafeBufferPointer { positions in
            rope.inverseFrequencies.withUnsafeBufferPointer { frequencies in
                tern_rope(query.pointer + tokens.lowerBound * c.qDim, Int64(tokens.count), Int32(c.headCount),
                          Int32(c.headDim), Int32(rope.rotaryDim), positions.baseAddress! + tokens.lowerBound,
                          frequencies.baseAddress, neox)
                tern_rope(key.pointer + tokens.lowerBound * c.kvDim, Int64(tokens.count), Int32(c.kvHeadCount),
                          Int32(c.headDim), Int32(rope.rotaryDim), positions.baseAddress! + tokens.lowerBound,
                          frequencies.baseAddress, neox)
            }
        }
    }

    private func mlpBlock(layer: LlamaLayerWeights, index: Int, tokens: Int) {
        let c = config
        rmsNorm(residual.pointer, layer.mlpNorm, into: normed.pointer, rows: tokens, dim: c.hiddenSize)
        if let moe = layer.moe, let moeBlock {
            moeBlock.run(moe, normed.pointer, tokens: tokens, residual: residual.pointer)
            return
        }
        guard let mlp = layer.mlp, let gateUp = gateUp[index] else {
            preconditionFailure("layer \(index) has neither an MLP nor experts")  // LlamaWeights sets one
        }
        linears(gateUp, normed.pointer, tokens: tokens)
        if c.family.isGemma {
            tern_gelu_tanh_mul(gate.pointer, up.pointer, Int64(tokens * c.intermediateSize))
        } else {
            tern_silu_mul(gate.pointer, up.pointer, Int64(tokens * c.intermediateSize))
        }
        addToResidual(mlp.down, gate.pointer, tokens: tokens, norm: layer.postMLPNorm)
    }

    /// residual += x · Wᵀ, or residual += norm(x · Wᵀ) where the block's output has a norm of
    /// its own (Gemma).
    private func addToResidual(_ layer: Linear, _ x: UnsafePointer<Float>, tokens: Int, norm: [Float]?) {
        guard let norm else {
            matmul(layer.weight, x, tokens: tokens, into: residual.pointer, accumulate: true)
            return
        }
        matmul(layer.weight, x, tokens: tokens, into: projected.pointer)
        rmsNorm(projected.pointer, norm, into: projected.pointer, rows: tokens, dim: config.hiddenSize)
        tern_add(residual.pointer, projected.pointer, Int64(tokens * config.hiddenSize))
    }

    // MARK: kernels

    private func dtypeID(_ tensor: TensorData) -> Int32 { Int32(tensor.dtype.rawValue) }

    private func matmul(_ weight: TensorData, _ x: UnsafePointer<Float>, tokens: Int,
                        into y: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        tern_matmul(pool.pointer, weight.bytes.baseAddress, dtypeID(weight), Int64(weight.shape[0]),
                    Int64(weight.shape[1]), x, Int64(tokens), y, accumulate ? 1 : 0)
    }

    /// Runs a group's layers on the same input x [T, inFeatures] into their outputs.
    private func linears(_ group: LinearGroup, _ x: UnsafePointer<Float>, tokens: Int) {
        let count = group.layers.count
        if group.fused {
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: count) { ys in
                for i in 0..<count { ys[i] = group.outputs[i].pointer }
                group.weights.withUnsafeBufferPointer { w in
                    group.rows.withUnsafeBufferPointer { rows in
                        tern_matmul_many(pool.pointer, Int32(count), w.baseAddress, rows.baseAddress,
                                         dtypeID(group.layers[0].weight), Int64(group.layers[0].inFeatures), x,
                                         Int64(tokens), UnsafePointer(ys.baseAddress), 0)
                    }
                }
            }
        } else {
            for i in 0..<count { matmul(group.layers[i].weight, x, tokens: tokens, into: group.outputs[i].pointer) }
        }
        for i in 0..<count { addBias(group.layers[i], group.outputs[i].pointer, tokens: tokens) }
    }

    private func addBias(_ layer: Linear, _ y: UnsafeMutablePointer<Float>, tokens: Int) {
        guard let bias = layer.bias else { return }
        bias.withUnsafeBufferPointer { b in
            for t in 0..<tokens { tern_add(y + t * layer.outFeatures, b.baseAddress, Int64(layer.outFeatures)) }
        }
    }

    private func rmsNorm(_ x: UnsafePointer<Float>, _ weight: [Float], into y: UnsafeMutablePointer<Float>,
                         rows: Int, dim: Int) {
        weight.withUnsafeBufferPointer { w in
            tern_rmsnorm(x, w.baseAddress, y, Int64(rows), Int64(dim), config.rmsNormEpsilon, 0)
        }
    }
}
