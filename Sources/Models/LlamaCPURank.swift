import CPUBackend
import CTernKernels
import Tensors

/// One tensor-parallel rank of `LlamaCPUModel`: its shard of the weights, the KV cache of
/// its KV heads, its scratch buffers, and its part of each block. Its `config` is the model's
/// with the rank's own head, KV-head, intermediate and vocabulary counts
/// (`TensorParallelShard.config`), so the same code runs a whole model as rank 0 of 1.
///
/// The attention and MLP blocks each end in a row-parallel projection (O, down) that writes
/// the rank's partial sum of the block's output; `LlamaCPUModel` adds the ranks' partials up.
/// Q/K/V and gate/up each run as one pool job, so the workers are waited for five times a
/// layer, not eight. Scratch buffers grow to the largest batch seen and are then reused.
final class LlamaCPURank {
    let config: ModelConfig
    let weights: LlamaWeights
    /// The rows of the model's vocabulary this rank's embedding and LM head hold.
    let vocabularyRows: Range<Int>
    let pool: CPUThreadPool
    let kvCache: CPUKVCache
    private let rope: RotaryEmbedding
    private let localRope: RotaryEmbedding?
    private let longRope: RotaryEmbedding?

    private let query = FloatBuffer(count: 0)        // (T, heads * headDim)
    private let key = FloatBuffer(count: 0)          // (T, kvHeads * headDim)
    private let value = FloatBuffer(count: 0)        // (T, kvHeads * headDim)
    private let attention = FloatBuffer(count: 0)    // (T, heads * headDim)
    private let gate = FloatBuffer(count: 0)         // (T, intermediate)
    private let up = FloatBuffer(count: 0)           // (T, intermediate)
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

    init(shard: TensorParallelShard, weights: LlamaWeights, pool: CPUThreadPool, rope: RotaryEmbedding,
         localRope: RotaryEmbedding?, longRope: RotaryEmbedding?, blockCount: Int, blockSize: Int) throws {
        config = shard.config
        self.weights = weights
        vocabularyRows = shard.vocabularyRows
        self.pool = pool
        self.rope = rope
        self.localRope = localRope
        self.longRope = longRope
        queryKeyValue = weights.layers.map { [query, key, value] in
            LinearGroup([$0.query, $0.key, $0.value], into: [query, key, value])
        }
        gateUp = weights.layers.map { [gate, up] in $0.mlp.map { LinearGroup([$0.gate, $0.up], into: [gate, up]) } }
        let c = shard.config
        moeBlock = c.moe.map { MoEBlock(config: $0, hiddenSize: c.hiddenSize, pool: pool) }
        kvCache = try CPUKVCache(layerCount: c.layerCount, blockCount: blockCount, blockSize: blockSize, kvDim: c.kvDim)
    }

    func reserve(tokens: Int) {
        let c = config
        query.reserve(tokens * c.qDim)
        key.reserve(tokens * c.kvDim)
        value.reserve(tokens * c.kvDim)
        attention.reserve(tokens * c.qDim)
        gate.reserve(tokens * c.intermediateSize)
        up.reserve(tokens * c.intermediateSize)
    }

    /// y [T, hidden] = the embedding rows of the tokens this rank's vocabulary holds, zeros for
    /// the others (whose rows another rank adds).
    func embed(_ ids: [Int32], into y: UnsafeMutablePointer<Float>) {
        let hidden = config.hiddenSize
        let table = weights.embedding
        for (token, id) in ids.enumerated() {
            let row = y + token * hidden
            guard vocabularyRows.contains(Int(id)) else {
                row.update(repeating: 0, count: hidden)
                continue
            }
            var local = id - Int32(vocabularyRows.lowerBound)
            tern_get_rows(table.bytes.baseAddress, dtypeID(table), Int64(hidden), &local, 1, row)
        }
    }

    /// Attention of layer `index` over the rank's heads, from x [T, hidden] (the normed
    /// residual): writes the step's K/V into the rank's cache and its output projection, the
    /// rank's partial sum of the block's output, into y [T, hidden] (y += it with `accumulate`).
    func attention(layer index: Int, _ x: UnsafePointer<Float>, batch: ForwardBatch,
                   into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let c = config
        let layer = weights.layers[index]
        let tokens = batch.tokenCount
        linears(queryKeyValue[index], x, tokens: tokens)
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
        // Sinks are a layer's [heads] logits (gpt-oss), nil for every other family.
        let attend = { (sinks: UnsafePointer<Float>?) in
            batch.queryStartLocations.withUnsafeBufferPointer { starts in
                batch.sequenceLengths.withUnsafeBufferPointer { lengths in
                    batch.blockTable.withUnsafeBufferPointer { table in
                        tern_paged_attention(
                            self.pool.pointer, self.query.pointer, keys, values, Int32(self.kvCache.blockSize),
                            Int32(c.headCount), Int32(c.kvHeadCount), Int32(c.headDim), Int32(batch.sequenceCount),
                            starts.baseAddress, lengths.baseAddress, table.baseAddress, Int32(batch.maxBlocksPerSequence),
                            c.attentionScale, Int32(c.slidingWindow(layer: index)), c.attentionLogitSoftcap, sinks,
                            self.attention.pointer)
                    }
                }
            }
        }
        if let sinks = layer.attentionSinks {
            sinks.withUnsafeBufferPointer { attend($0.baseAddress) }
        } else {
            attend(nil)
        }
        matmul(layer.output.weight, attention.pointer, tokens: tokens, into: y, accumulate: accumulate)
        addBias(layer.output, y, tokens: tokens)
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

    /// The MLP (or the experts) of layer `index` on the rank's intermediate rows, from x
    /// [T, hidden] (the normed residual): the rank's partial sum of the block's output into y
    /// [T, hidden] (y += it with `accumulate`).
    func mlp(layer index: Int, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>,
             accumulate: Bool) {
        let c = config
        let layer = weights.layers[index]
        if let moe = layer.moe, let moeBlock {
            if !accumulate { y.update(repeating: 0, count: tokens * c.hiddenSize) }
            moeBlock.run(moe, x, tokens: tokens, residual: y)
            return
        }
        guard let mlp = layer.mlp, let gateUp = gateUp[index] else {
            preconditionFailure("layer \(index) has neither an MLP nor experts")  // LlamaWeights sets one
        }
        linears(gateUp, x, tokens: tokens)
        if c.family.isGemma {
            tern_gelu_tanh_mul(gate.pointer, up.pointer, Int64(tokens * c.intermediateSize))
        } else {
            tern_silu_mul(gate.pointer, up.pointer, Int64(tokens * c.intermediateSize))
        }
        matmul(mlp.down.weight, gate.pointer, tokens: tokens, into: y, accumulate: accumulate)
    }

    /// y [rows, the rank's vocabulary] = the LM head's rows of this rank · x [rows, hidden].
    func lmHead(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        matmul(weights.lmHead, x, tokens: rows, into: y)
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
        config.rmsNorm(x, weight, into: y, rows: rows, dim: dim)
    }
}

extension ModelConfig {
    /// y [rows, dim] = RMSNorm of x [rows, dim] times `weight` [dim], with the model's epsilon.
    func rmsNorm(_ x: UnsafePointer<Float>, _ weight: [Float], into y: UnsafeMutablePointer<Float>, rows: Int, dim: Int) {
        weight.withUnsafeBufferPointer { w in
            tern_rmsnorm(x, w.baseAddress, y, Int64(rows), Int64(dim), rmsNormEpsilon, 0)
        }
    }
}
