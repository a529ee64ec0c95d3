/// One step's work for the model: a flattened, ragged batch (DESIGN.md, "The batch the
/// model sees"). The same layout serves prefill, chunked prefill, prefix-cache hits and
/// decode, on every backend. T = scheduled tokens, B = sequences, B' = rows that need logits.
public struct ForwardBatch: Sendable {
    /// [T] all scheduled tokens of all sequences, back to back.
    public var tokenIDs: [Int32] = []
    /// [T] position of each token in its sequence.
    public var positions: [Int32] = []
    /// [T] KV slot of each token: block * blockSize + offset in block.
    public var slotMapping: [Int64] = []
    /// [B + 1] where each sequence's tokens start in the flat arrays.
    public var queryStartLocations: [Int32] = [0]
    /// [B] context length of each sequence after this step.
    public var sequenceLengths: [Int32] = []
    /// [B, maxBlocksPerSequence] KV pages of each sequence, padded with the null block 0.
    public var blockTable: [Int32] = []
    public var maxBlocksPerSequence: Int = 0
    /// [B'] flat rows whose logits are wanted (usually each sampling sequence's last token).
    public var logitsIndices: [Int32] = []

    public init() {}

    public var tokenCount: Int { tokenIDs.count }
    public var sequenceCount: Int { sequenceLengths.count }

    /// Empties the batch for a step whose sequences have at most `maxBlocksPerSequence`
    /// pages, keeping the arrays' storage.
    public mutating func reset(maxBlocksPerSequence: Int) {
        tokenIDs.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        slotMapping.removeAll(keepingCapacity: true)
        queryStartLocations.removeAll(keepingCapacity: true)
        queryStartLocations.append(0)
        sequenceLengths.removeAll(keepingCapacity: true)
        blockTable.removeAll(keepingCapacity: true)
        logitsIndices.removeAll(keepingCapacity: true)
        self.maxBlocksPerSequence = maxBlocksPerSequence
    }

    /// Appends one sequence: `tokens` fed at positions `start ..< start + tokens.count`, its
    /// pages `blocks` (block size `blockSize`, at most `maxBlocksPerSequence` of them), and
    /// whether its last token needs logits.
    public mutating func append(tokens: some Collection<Int32>, start: Int, blocks: some Collection<Int32>,
                                blockSize: Int, wantsLogits: Bool) {
        precondition(blocks.count <= maxBlocksPerSequence, "block table row overflow")
        let firstBlock = blocks.startIndex
        var position = start
        for token in tokens {
            tokenIDs.append(token)
            positions.append(Int32(position))
            let block = blocks[blocks.index(firstBlock, offsetBy: position / blockSize)]
            slotMapping.append(Int64(block) * Int64(blockSize) + Int64(position % blockSize))
            position += 1
        }
        queryStartLocations.append(Int32(tokenIDs.count))
        sequenceLengths.append(Int32(position))
        blockTable.append(contentsOf: blocks)
        blockTable.append(contentsOf: repeatElement(0, count: maxBlocksPerSequence - blocks.count))
        if wantsLogits { logitsIndices.append(Int32(tokenIDs.count - 1)) }
    }
}
