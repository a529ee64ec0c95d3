import CPUBackend
import CTernKernels
import Tensors

/// The forward pass of every `ModelFamily` on the CPU backend, on one rank or on several
/// tensor-parallel ranks in this process (`TensorParallelPlan`).
///
/// Per layer: RMSNorm → Q/K/V projections (+bias, Qwen2) → per-head Q/K norm (Qwen3,
/// Gemma 3; over the whole projections in OLMoE) → RoPE → K/V written into the paged cache →
/// paged attention → output projection added to the residual → RMSNorm → SwiGLU MLP added to
/// the residual (in a sparse layer of a mixture-of-experts model, the routed experts of
/// `MoEBlock`). Gemma scales the
/// embeddings by √hidden, normalizes the attention and MLP outputs before their residual adds,
/// takes a GeGLU MLP, and interleaves sliding-window (local) layers, with their own RoPE base
/// in Gemma 3, with global ones (`ModelConfig.slidingWindowLayers` says how the KV cache
/// serves them). gpt-oss adds biases to all four attention projections and a learned sink
/// logit per head to each softmax, and its experts have biases and a clamped SwiGLU. Decode time is spent almost
/// all in the matmuls dequantizing the weights in registers (the LM head alone is a fifth
/// of it on SmolLM2); attention grows with the context.
///
/// This object holds what the ranks replicate (the residual stream, the norms, the final
/// norm) once, and each `LlamaCPURank` its shard: from Q/K/V to O and from gate/up to down a
/// rank works alone, and each block's partial outputs meet in one all-reduce over shared
/// memory (`CPUCollectives`), summed in rank order; the LM head's vocabulary slices are
/// gathered side by side. The ranks take turns on the one thread pool, each using every core,
/// so tensor parallelism on the CPU computes what NCCL ranks would, at no gain in speed: it is
/// there to test the sharding. One rank is the plain model, with no copies and no all-reduce.
public final class LlamaCPUModel: HiddenStatesExecutor {
    public let config: ModelConfig
    /// The whole model's weights; each rank holds its shard of them.
    public let weights: LlamaWeights
    public let plan: TensorParallelPlan
    /// The RoPE of the global layers (of every layer, unless `localRope` is set).
    public let rope: RotaryEmbedding
    /// The RoPE of the sliding-window layers where their base differs (Gemma 3).
    public let localRope: RotaryEmbedding?
    /// Phi-3's LongRoPE with its long factors (`rope` has the short ones), else nil.
    public let longRope: RotaryEmbedding?
    public let pool: CPUThreadPool
    public var blockSize: Int { ranks[0].kvCache.blockSize }
    public var blockCount: Int { ranks[0].kvCache.blockCount }

    private let ranks: [LlamaCPURank]
    /// nil for one rank, which writes straight into the residual.
    private let collectives: CPUCollectives?
    private let residual = FloatBuffer(count: 0)     // (T, hidden)
    private let normed = FloatBuffer(count: 0)       // (T, hidden)
    private let projected = FloatBuffer(count: 0)    // (T, hidden): a block's output before its norm (Gemma)
    private let lastHidden = FloatBuffer(count: 0)   // (B', hidden)
    private let logits = FloatBuffer(count: 0)       // (B', vocab)

    /// - Parameter tensorParallelSize: the ranks the model is split over
    ///   (`TensorParallelPlan` says how, and throws where the model does not divide).
    public init(config: ModelConfig, weights: LlamaWeights, pool: CPUThreadPool, blockCount: Int,
                blockSize: Int, tensorParallelSize: Int = 1) throws {
        self.config = config
        self.weights = weights
        self.pool = pool
        plan = try TensorParallelPlan(config: config, rankCount: tensorParallelSize)
        rope = config.rotaryEmbedding(frequencyFactors: weights.ropeFrequencyFactors)
        longRope = config.longRotaryEmbedding
        localRope = config.localRotaryEmbedding
        ranks = try plan.shards.map { [rope, localRope, longRope] shard in
            try LlamaCPURank(shard: shard, weights: try weights.shard(shard, config: config), pool: pool, rope: rope,
                             localRope: localRope, longRope: longRope, blockCount: blockCount, blockSize: blockSize)
        }
        collectives = tensorParallelSize > 1 ? CPUCollectives(rankCount: tensorParallelSize) : nil
    }

    private func reserve(tokens: Int, logitRows: Int) {
        let c = config
        residual.reserve(tokens * c.hiddenSize)
        normed.reserve(tokens * c.hiddenSize)
        if c.family.isGemma { projected.reserve(tokens * c.hiddenSize) }
        lastHidden.reserve(logitRows * c.hiddenSize)
        logits.reserve(logitRows * c.vocabularySize)
        for rank in ranks { rank.reserve(tokens: tokens) }
        let widestVocabulary = ranks.map(\.vocabularyRows.count).max() ?? 0
        collectives?.reserve(max(tokens * c.hiddenSize, logitRows * widestVocabulary))
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
        c.rmsNorm(lastHidden.pointer, weights.finalNorm, into: lastHidden.pointer, rows: logitRows, dim: c.hiddenSize)
        if let collectives {
            for (index, rank) in ranks.enumerated() {
                rank.lmHead(lastHidden.pointer, rows: logitRows, into: collectives.buffer(rank: index))
            }
            collectives.allGather(rows: logitRows, widths: ranks.map(\.vocabularyRows.count), into: logits.pointer)
        } else {
            ranks[0].lmHead(lastHidden.pointer, rows: logitRows, into: logits.pointer)
        }
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
        c.rmsNorm(residual.pointer, weights.finalNorm, into: normed.pointer, rows: tokens, dim: c.hiddenSize)
        return UnsafeBufferPointer(start: normed.pointer, count: tokens * c.hiddenSize)
    }

    /// The embedding lookup and every layer: `residual` ends as the last layer's output.
    private func runLayers(_ batch: ForwardBatch) {
        let c = config
        let tokens = batch.tokenCount
        allReduce(tokens: tokens, into: residual.pointer, accumulate: false) { rank, y, _ in
            rank.embed(batch.tokenIDs, into: y)
        }
        if c.embeddingScale != 1 { tern_scale(residual.pointer, Int64(tokens * c.hiddenSize), c.embeddingScale) }
        for (index, layer) in weights.layers.enumerated() {
            c.rmsNorm(residual.pointer, layer.attentionNorm, into: normed.pointer, rows: tokens, dim: c.hiddenSize)
            addToResidual(tokens: tokens, norm: layer.postAttentionNorm) { rank, y, accumulate in
                rank.attention(layer: index, normed.pointer, batch: batch, into: y, accumulate: accumulate)
            }
            c.rmsNorm(residual.pointer, layer.mlpNorm, into: normed.pointer, rows: tokens, dim: c.hiddenSize)
            addToResidual(tokens: tokens, norm: layer.postMLPNorm) { rank, y, accumulate in
                rank.mlp(layer: index, normed.pointer, tokens: tokens, into: y, accumulate: accumulate)
            }
        }
    }

    /// residual += Σ ranks' partial block outputs, or residual += norm(that sum) where the
    /// block's output has a norm of its own (Gemma).
    private func addToResidual(tokens: Int, norm: [Float]?,
                               _ partial: (LlamaCPURank, UnsafeMutablePointer<Float>, Bool) -> Void) {
        guard let norm else {
            allReduce(tokens: tokens, into: residual.pointer, accumulate: true, partial)
            return
        }
        allReduce(tokens: tokens, into: projected.pointer, accumulate: false, partial)
        config.rmsNorm(projected.pointer, norm, into: projected.pointer, rows: tokens, dim: config.hiddenSize)
        tern_add(residual.pointer, projected.pointer, Int64(tokens * config.hiddenSize))
    }

    /// out [T, hidden] = (or += with `accumulate`) the sum of what `partial(rank, y,
    /// accumulate)` writes into y for every rank. One rank writes into `out` itself; several
    /// write into their collective buffers, which the all-reduce adds up in rank order.
    private func allReduce(tokens: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool,
                           _ partial: (LlamaCPURank, UnsafeMutablePointer<Float>, Bool) -> Void) {
        guard let collectives else {
            partial(ranks[0], out, accumulate)
            return
        }
        for (index, rank) in ranks.enumerated() { partial(rank, collectives.buffer(rank: index), false) }
        collectives.allReduceSum(count: tokens * config.hiddenSize, into: out, accumulate: accumulate)
    }
}
