import Tensors

extension LlamaWeights {
    /// One rank's part of the weights (`TensorParallelShard` says which). Column-parallel
    /// matrices (Q, K, V, gate, up, and the embedding and LM head by vocabulary) are views of
    /// their rows in the mapped file; row-parallel ones (O, down) are copied, as their columns
    /// are not contiguous: each row's share is cut between quantization blocks and copied
    /// whole, so the weights keep their own type and the quantized kernels, and a share that
    /// does not fall on block boundaries is refused. Norms, the router and a row-parallel
    /// layer's bias (on rank 0 only) are shared; attention sinks go with their heads. A shard
    /// covering the whole model (one rank) is these weights, uncopied.
    public func shard(_ shard: TensorParallelShard, config c: ModelConfig) throws -> LlamaWeights {
        var copies: [TensorBytes] = []
        let label = "[rank \(shard.rank)]"
        func rows(_ linear: Linear, _ range: Range<Int>) -> Linear {
            guard range != 0 ..< linear.outFeatures else { return linear }
            return Linear(weight: linear.weight.rowSlice(range, name: linear.weight.name + label),
                          bias: linear.bias.map { Array($0[range]) },
                          weightScales: linear.weightScales.map { Array($0[range]) })
        }
        func columns(_ linear: Linear, _ range: Range<Int>) throws -> Linear {
            let weight = linear.weight
            guard range != 0 ..< linear.inFeatures else { return linear }
            guard let (slice, owner) = weight.columnSlice(range, name: weight.name + label) else {
                throw TensorParallelError(
                    "tensor '\(weight.name)' (\(weight.dtype), blocks of \(weight.dtype.blockSize) values) cannot be "
                        + "split at columns \(range.lowerBound)..<\(range.upperBound) for rank \(shard.rank): "
                        + "a rank's share must be whole quantization blocks")
            }
            copies.append(owner)
            // The ranks' partial outputs are summed, so a row-parallel layer's bias (gpt-oss's O
            // and expert down) is added by rank 0 alone.
            return Linear(weight: slice, bias: shard.rank == 0 ? linear.bias : nil, weightScales: linear.weightScales)
        }
        func mlp(_ mlp: MLPWeights, _ range: Range<Int>) throws -> MLPWeights {
            MLPWeights(gate: rows(mlp.gate, range), up: rows(mlp.up, range), down: try columns(mlp.down, range))
        }
        func vocabulary(_ tensor: TensorData) -> TensorData {
            shard.vocabularyRows == 0 ..< tensor.rows ? tensor : tensor.rowSlice(shard.vocabularyRows, name: tensor.name + label)
        }

        let queryRows = shard.queryRows(headDim: c.headDim)
        let kvRows = shard.kvRows(headDim: c.headDim)
        let shardLayers = try layers.map { layer in
            LlamaLayerWeights(
                attentionNorm: layer.attentionNorm,
                query: rows(layer.query, queryRows),
                key: rows(layer.key, kvRows),
                value: rows(layer.value, kvRows),
                output: try columns(layer.output, queryRows),
                queryNorm: layer.queryNorm,
                keyNorm: layer.keyNorm,
                postAttentionNorm: layer.postAttentionNorm,
                mlpNorm: layer.mlpNorm,
                postMLPNorm: layer.postMLPNorm,
                mlp: try layer.mlp.map { try mlp($0, shard.intermediateRows) },
                moe: try layer.moe.map { moe in
                    var sharded = MoEWeights(router: moe.router,
                                             experts: try moe.experts.map { try mlp($0, shard.expertIntermediateRows) },
                                             sharedExpert: try moe.sharedExpert.map { try mlp($0, shard.sharedExpertRows) },
                                             sharedGate: moe.sharedGate)
                    sharded.routerBias = moe.routerBias
                    sharded.ownedBytes = moe.ownedBytes
                    return sharded
                },
                attentionSinks: layer.attentionSinks.map {
                    Array($0[queryRows.lowerBound / c.headDim ..< queryRows.upperBound / c.headDim])
                })
        }
        return LlamaWeights(embedding: vocabulary(embedding), layers: shardLayers, finalNorm: finalNorm,
                            lmHead: vocabulary(lmHead), ropeFrequencyFactors: ropeFrequencyFactors, store: store,
                            shardCopies: shardCopies + copies)
    }
}

extension MoEWeights {
    init(router: TensorData, experts: [MLPWeights], sharedExpert: MLPWeights?, sharedGate: TensorData?) {
        self.router = router
        self.experts = experts
        self.sharedExpert = sharedExpert
        self.sharedGate = sharedGate
    }
}
