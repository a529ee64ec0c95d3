import CUDABackend
@testable import Models
import Testing

/// The host-side choices behind decode graphs and the split attention, which need no GPU.
struct DecodeGraphTests {
    /// A decode step of `lengths` sequences (one token each), `width` blocks a table row.
    func decodeBatch(_ lengths: [Int], width: Int) -> ForwardBatch {
        var batch = ForwardBatch()
        for (index, length) in lengths.enumerated() {
            batch.tokenIDs.append(Int32(index + 5))
            batch.positions.append(Int32(length - 1))
            batch.slotMapping.append(Int64(index * 16 + length % 16))
            batch.queryStartLocations.append(Int32(index + 1))
            batch.sequenceLengths.append(Int32(length))
            batch.blockTable.append(contentsOf: (0..<width).map { Int32(index * width + $0 + 1) })
            batch.logitsIndices.append(Int32(index))
        }
        batch.maxBlocksPerSequence = width
        return batch
    }

    @Test func decodeStepsArePaddedToTheNextBucket() throws {
        let key = try #require(GraphKey(decode: decodeBatch([30, 7, 300], width: 19), sampling: .plain,
                                        maxSequences: 256, maxTokens: 8192, maxBlocksPerSequence: 513))
        #expect(key.bucket == 4)
        #expect(key.maxBlocks == 32)
        #expect(key.sampling == .plain)
        let one = try #require(GraphKey(decode: decodeBatch([5], width: 1), sampling: .none, maxSequences: 256,
                                        maxTokens: 8192, maxBlocksPerSequence: 513))
        #expect(one.bucket == 1 && one.maxBlocks == 16 && one.sampling == .none)
        let many = try #require(GraphKey(decode: decodeBatch(Array(repeating: 40, count: 200), width: 3),
                                         sampling: .plain, maxSequences: 256, maxTokens: 8192, maxBlocksPerSequence: 513))
        #expect(many.bucket == 224)
    }

    @Test func bucketsAndStridesStayWithinTheBuffers() throws {
        // 250 sequences fit buffers of 250: the bucket is the limit, not 256.
        let key = try #require(GraphKey(decode: decodeBatch(Array(repeating: 9, count: 250), width: 2), sampling: .plain,
                                        maxSequences: 250, maxTokens: 8192, maxBlocksPerSequence: 513))
        #expect(key.bucket == 250)
        // A table row of 300 blocks pads to 512, capped at the buffers' 400.
        let wide = try #require(GraphKey(decode: decodeBatch([4800], width: 300), sampling: .plain, maxSequences: 8,
                                         maxTokens: 8192, maxBlocksPerSequence: 400))
        #expect(wide.maxBlocks == 400)
        #expect(GraphKey(decode: decodeBatch(Array(repeating: 9, count: 9), width: 2), sampling: .plain,
                         maxSequences: 8, maxTokens: 8192, maxBlocksPerSequence: 513) == nil)
        #expect(GraphKey(decode: decodeBatch([9], width: 600), sampling: .plain, maxSequences: 8, maxTokens: 8192,
                         maxBlocksPerSequence: 513) == nil)
    }

    @Test func stepsWithPromptTokensOrSkippedRowsRunKernelByKernel() {
        var prompt = decodeBatch([3], width: 1)
        prompt.tokenIDs += [7, 8]
        prompt.positions = [0, 1, 2]
        prompt.slotMapping = [16, 17, 18]
        prompt.queryStartLocations = [0, 3]
        prompt.logitsIndices = [2]
        #expect(GraphKey(decode: prompt, sampling: .plain, maxSequences: 8, maxTokens: 64, maxBlocksPerSequence: 4) == nil)
        var reordered = decodeBatch([3, 4], width: 1)
        reordered.logitsIndices = [1, 0]
        #expect(GraphKey(decode: reordered, sampling: .plain, maxSequences: 8, maxTokens: 64, maxBlocksPerSequence: 4) == nil)
        #expect(GraphKey(decode: ForwardBatch(), sampling: .plain, maxSequences: 8, maxTokens: 64,
                         maxBlocksPerSequence: 4) == nil)
    }

    @Test func decodeAttentionSplitsShortBatchesAcrossTheGPU() {
        // Batch 1, 8 KV heads, 132 SMs: the split is bounded by the keys (32 a piece) and by 64.
        #expect(CUDAKernels.decodePartitions(tokens: 1, heads: 32, kvHeads: 8, maxSequenceLength: 100,
                                             capacity: 1 << 14, multiprocessors: 132) == 4)
        #expect(CUDAKernels.decodePartitions(tokens: 1, heads: 32, kvHeads: 8, maxSequenceLength: 8192,
                                             capacity: 1 << 14, multiprocessors: 132) == 64)
        // 256 sequences fill the GPU without splitting; the partials' capacity bounds the rest.
        #expect(CUDAKernels.decodePartitions(tokens: 256, heads: 32, kvHeads: 8, maxSequenceLength: 8192,
                                             capacity: 1 << 14, multiprocessors: 132) == 1)
        #expect(CUDAKernels.decodePartitions(tokens: 4, heads: 32, kvHeads: 8, maxSequenceLength: 8192,
                                             capacity: 256, multiprocessors: 132) == 2)
    }
}
