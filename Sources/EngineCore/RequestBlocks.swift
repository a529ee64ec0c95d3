/// The blocks one request holds and how far its sequence is chained into the prefix cache.
final class RequestBlocks {
    /// In sequence order: block i holds tokens i * blockSize ..< (i + 1) * blockSize.
    private(set) var blocks: [KVCacheBlock] = []
    /// `blocks`' ids, kept alongside so that block tables are handed out without a copy.
    private(set) var blockIDs: [Int32] = []
    /// Leading blocks whose contents are in the prefix cache (this request's own block or an
    /// identical cached copy); the next block to cache is this one.
    var numChainedBlocks = 0
    /// Cache key of the last chained block's contents; a newly cached block records it as its
    /// parent. 0 before the first block.
    var chainKey: UInt64 = 0
    /// False once the prefix cache was reset under this request: its chain no longer exists.
    private(set) var isCaching = true

    func append(_ newBlocks: [KVCacheBlock]) {
        blocks.append(contentsOf: newBlocks)
        blockIDs.append(contentsOf: newBlocks.lazy.map(\.id))
    }

    /// Removes and returns the blocks from index `count` on.
    func removeBlocks(after count: Int) -> [KVCacheBlock] {
        let removed = Array(blocks[count...])
        blocks.removeLast(blocks.count - count)
        blockIDs.removeLast(blockIDs.count - count)
        return removed
    }

    func stopCaching() {
        isCaching = false
    }
}
