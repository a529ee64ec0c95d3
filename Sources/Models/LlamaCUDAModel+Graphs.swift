import CUDABackend
import Logging

/// Launch sizes of one step, apart from the batch, so that a graph captured for a shape can be
/// replayed for every batch padded to it.
struct StepShape: Hashable {
    var tokens: Int
    var sequences: Int
    /// Logits rows.
    var rows: Int
    /// Row stride of the block table.
    var maxBlocks: Int
    /// Pieces the decode attention splits each sequence's keys into.
    var partitions: Int
    /// Prompt tokens in the step: the tiled attention instead of the split decode kernel.
    var prompt: Bool
}

/// What a step does after the logits.
enum StepSampling: Hashable {
    /// Nothing: the logits go back to the host.
    case none
    /// Greedy or plain temperature draws (`tern_sample`).
    case plain
    /// Some row filters (top-k, top-p, min-p): `tern_sample_filtered`.
    case filtered

    init(_ rows: [DeviceSamplingRow]?) {
        guard let rows else { self = .none; return }
        self = rows.contains { $0.filters } ? .filtered : .plain
    }
}

/// Which captured graph runs a decode step.
struct GraphKey: Hashable {
    /// Sequences (= tokens = logits rows) the step is padded to.
    var bucket: Int
    /// Block-table row stride: a power of two at least the step's widest row.
    var maxBlocks: Int
    /// The sampling the graph ends with.
    var sampling: StepSampling

    /// Decode batch sizes graphs are captured for; a decode step is padded to the next one
    /// (or to the buffers' limit, if that is smaller).
    static let buckets = [1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256,
                          320, 384, 448, 512]

    /// The graph for `batch` when it is a decode step a graph can run (one token a sequence,
    /// each a logits row in order, within buffers sized for `maxSequences` sequences,
    /// `maxTokens` tokens and `maxBlocksPerSequence` blocks a row), else nil.
    init?(decode batch: ForwardBatch, sampling: StepSampling, maxSequences: Int, maxTokens: Int,
          maxBlocksPerSequence: Int) {
        let n = batch.sequenceCount
        guard n > 0, batch.tokenCount == n, batch.logitsIndices.count == n,
              batch.maxBlocksPerSequence <= maxBlocksPerSequence else { return nil }
        for i in 0..<n where batch.logitsIndices[i] != Int32(i) { return nil }
        let limit = min(maxSequences, maxTokens)
        guard n <= limit else { return nil }
        bucket = min(Self.buckets.first { $0 >= n } ?? limit, limit)
        var stride = 16
        while stride < batch.maxBlocksPerSequence { stride *= 2 }
        maxBlocks = min(stride, maxBlocksPerSequence)
        self.sampling = sampling
    }
}

extension LlamaCUDAModel {
    /// The graph for `batch` when graphs are on and it is a decode step one can run.
    func graphKey(for batch: ForwardBatch, sampling: StepSampling) -> GraphKey? {
        guard graphsEnabled else { return nil }
        return GraphKey(decode: batch, sampling: sampling, maxSequences: maxSequences, maxTokens: maxBatchTokens,
                        maxBlocksPerSequence: buffers.maxBlocksPerSequence)
    }

    /// The launch sizes a graph is captured with: the attention split for the longest context
    /// its block table can hold (the device sizes the pieces of shorter ones).
    func shape(for key: GraphKey) -> StepShape {
        let partitions = kernels.decodePartitions(
            tokens: key.bucket, heads: config.headCount, kvHeads: config.kvHeadCount,
            maxSequenceLength: key.maxBlocks * blockSize, capacity: buffers.partials.capacity)
        return StepShape(tokens: key.bucket, sequences: key.bucket, rows: key.bucket, maxBlocks: key.maxBlocks,
                         partitions: partitions, prompt: false)
    }

    /// The graph of `key`, captured on first use; nil (and graphs off from then on, with a
    /// warning) if capturing fails, so that the step runs kernel by kernel instead.
    func graph(for key: GraphKey) throws -> CUDAGraph? {
        if let graph = graphs[key] { return graph }
        do {
            let shape = shape(for: key)
            let graph = try CUDAGraph(device: device) {
                _ = try forward(shape, sampling: key.sampling, adjustments: false)
            }
            graphs[key] = graph
            logger.debug("captured a decode graph", metadata: [
                "sequences": "\(key.bucket)", "max_blocks": "\(key.maxBlocks)", "sampling": "\(key.sampling)",
                "graphs": "\(graphs.count)",
            ])
            return graph
        } catch {
            graphsEnabled = false
            graphs.removeAll()
            logger.warning("CUDA graph capture failed; running kernel by kernel from now on", metadata: [
                "error": "\(error)",
            ])
            return nil
        }
    }
}
