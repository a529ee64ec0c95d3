/// How a model splits over `rankCount` tensor-parallel ranks: Megatron-LM's scheme, as vLLM
/// runs it (`--tensor-parallel-size`). Backend-independent: the CPU's in-process ranks take it,
/// and so will NCCL ranks on several GPUs.
///
/// Per layer, each rank holds:
/// - column-parallel Q, K, V (its heads' rows, biases with them) and gate, up (its rows of the
///   intermediate width), so each computes its own heads' attention and its own slice of the
///   MLP activation with no communication;
/// - row-parallel O and down (the matching columns): each rank's product is a partial sum of
///   the layer's output, and one all-reduce per block adds them up. Norms, the residual
///   stream and the router of an expert layer are replicated;
/// - its KV heads: a 1/N share when the KV heads divide evenly, else (fewer KV heads than
///   ranks) the one KV head its query heads read, replicated on N / kvHeads ranks;
/// - vocabulary-parallel embedding and LM head: a contiguous range of rows each. A token's
///   embedding comes from the rank that holds its row (the others add zeros in the all-reduce),
///   and the ranks' logits are gathered side by side.
///
/// Experts shard like the dense MLP: every expert keeps 1/N of its intermediate rows on each
/// rank, so the routing needs nothing beyond the MLP's all-reduce.
public struct TensorParallelPlan: Sendable, Equatable {
    public let rankCount: Int
    /// One entry per rank, in rank order.
    public let shards: [TensorParallelShard]

    /// Plans `config` over `rankCount` ranks; throws, naming the sizes, where they do not divide.
    public init(config c: ModelConfig, rankCount n: Int) throws {
        func fail(_ message: String) -> TensorParallelError {
            TensorParallelError("tensor parallel size \(n): \(message)")
        }
        guard n >= 1 else { throw TensorParallelError("tensor parallel size must be at least 1, got \(n)") }
        rankCount = n
        guard n > 1 else {
            shards = [TensorParallelShard(rank: 0, config: c, rankCount: 1)]
            return
        }
        if c.headCount % n != 0 {
            throw fail("the \(c.headCount) attention heads do not divide evenly over \(n) ranks")
        }
        if c.kvHeadCount >= n ? c.kvHeadCount % n != 0 : n % c.kvHeadCount != 0 {
            throw fail(c.kvHeadCount >= n
                ? "the \(c.kvHeadCount) KV heads do not divide evenly over \(n) ranks"
                : "the \(c.kvHeadCount) KV heads cannot be replicated evenly over \(n) ranks (\(n) is not a multiple of \(c.kvHeadCount))")
        }
        if c.intermediateSize % n != 0 {
            throw fail("the MLP's intermediate size \(c.intermediateSize) does not divide evenly over \(n) ranks")
        }
        if let moe = c.moe {
            if moe.expertIntermediateSize % n != 0 {
                throw fail("the experts' intermediate size \(moe.expertIntermediateSize) does not divide evenly over \(n) ranks")
            }
            if moe.sharedExpertIntermediateSize % n != 0 {
                throw fail("the shared expert's intermediate size \(moe.sharedExpertIntermediateSize) does not divide evenly over \(n) ranks")
            }
        }
        if c.family.normsWholeQK {
            throw fail("\(c.family)'s Q/K norms span all heads together, so they cannot be split by head")
        }
        if c.vocabularySize < n {
            throw fail("the vocabulary of \(c.vocabularySize) tokens is smaller than the \(n) ranks")
        }
        shards = (0..<n).map { TensorParallelShard(rank: $0, config: c, rankCount: n) }
    }

    /// KV heads held over all ranks: the model's own, or more where they are replicated.
    /// What the KV cache's size per token scales with.
    public var kvHeadsHeld: Int { shards.reduce(0) { $0 + $1.kvHeads.count } }
}

/// One rank's part of a `TensorParallelPlan`: index ranges into the model's full tensors.
public struct TensorParallelShard: Sendable, Equatable {
    public let rank: Int
    /// The query heads it computes, [heads / N].
    public let queryHeads: Range<Int>
    /// The KV heads its cache holds: its 1/N share, or the one its query heads read.
    public let kvHeads: Range<Int>
    /// Its rows of gate and up, columns of down: [intermediate / N].
    public let intermediateRows: Range<Int>
    /// Its rows of every routed expert's gate and up (columns of down); empty for a dense model.
    public let expertIntermediateRows: Range<Int>
    /// Its rows of the shared expert (Qwen2-MoE); empty where there is none.
    public let sharedExpertRows: Range<Int>
    /// Its rows of the embedding and the LM head: a balanced contiguous split (sizes differ by
    /// at most one where the vocabulary does not divide).
    public let vocabularyRows: Range<Int>
    /// The shape the rank computes with: the model's, with its own head, KV-head,
    /// intermediate and vocabulary counts.
    public let config: ModelConfig

    init(rank: Int, config c: ModelConfig, rankCount n: Int) {
        func share(_ total: Int) -> Range<Int> { rank * total / n ..< (rank + 1) * total / n }
        self.rank = rank
        queryHeads = share(c.headCount)
        if c.kvHeadCount >= n {
            kvHeads = share(c.kvHeadCount)
        } else {
            let kvHead = queryHeads.lowerBound / (c.headCount / c.kvHeadCount)
            kvHeads = kvHead ..< kvHead + 1
        }
        intermediateRows = share(c.intermediateSize)
        expertIntermediateRows = share(c.moe?.expertIntermediateSize ?? 0)
        sharedExpertRows = share(c.moe?.sharedExpertIntermediateSize ?? 0)
        vocabularyRows = share(c.vocabularySize)
        var local = c
        local.headCount = queryHeads.count
        local.kvHeadCount = kvHeads.count
        local.intermediateSize = intermediateRows.count
        local.vocabularySize = vocabularyRows.count
        local.moe?.expertIntermediateSize = expertIntermediateRows.count
        local.moe?.sharedExpertIntermediateSize = sharedExpertRows.count
        config = local
    }

    /// Its rows of Q, and columns of O: its query heads' [headDim] blocks.
    public func queryRows(headDim: Int) -> Range<Int> {
        queryHeads.lowerBound * headDim ..< queryHeads.upperBound * headDim
    }

    /// Its rows of K and V.
    public func kvRows(headDim: Int) -> Range<Int> { kvHeads.lowerBound * headDim ..< kvHeads.upperBound * headDim }
}

/// A model that cannot be split the way `--tensor-parallel-size` asks, said in one line.
public struct TensorParallelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
