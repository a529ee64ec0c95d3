/// Every KV block of one device, the free queue over them and the prefix-cache map from block
/// hash to cached block (vLLM's `BlockPool`). Policy (which blocks a request gets, when to
/// cache) lives above it in `KVCacheManager`.
///
/// Block 0 is the null block: never handed out, so block tables can be padded with 0.
final class BlockPool {
    let numBlocks: Int
    /// All blocks, indexed by id.
    let blocks: [KVCacheBlock]
    private var freeQueue: FreeBlockQueue
    private var cachedBlocks: [BlockHash: KVCacheBlock] = [:]
    private var nextCacheKey: UInt64 = 1

    /// - Parameter numBlocks: blocks in the pool, counting the null block; at least 2.
    init(numBlocks: Int) {
        precondition(numBlocks >= 2, "a block pool needs the null block and at least one more")
        self.numBlocks = numBlocks
        blocks = (0 ..< numBlocks).map { KVCacheBlock(id: Int32($0)) }
        freeQueue = FreeBlockQueue(Array(blocks.dropFirst()))
    }

    var nullBlock: KVCacheBlock { blocks[0] }

    /// Blocks that can be allocated now (cached or not).
    var numFreeBlocks: Int { freeQueue.count }

    /// Blocks that could ever be in use: all but the null block.
    var numUsableBlocks: Int { numBlocks - 1 }

    /// Fraction of the usable blocks held by requests, in [0, 1].
    var usage: Double { 1 - Double(numFreeBlocks) / Double(numUsableBlocks) }

    /// Number of blocks whose contents are in the prefix cache (free or in use).
    var numCachedBlocks: Int { cachedBlocks.count }

    /// Takes `count` blocks from the head of the free queue, each with refCount 1; a block that
    /// was cached leaves the prefix cache now. Nil, with nothing changed, if too few are free.
    func allocate(_ count: Int) -> [KVCacheBlock]? {
        guard count <= freeQueue.count else { return nil }
        var allocated: [KVCacheBlock] = []
        allocated.reserveCapacity(count)
        for _ in 0 ..< count {
            guard let block = freeQueue.popFirst() else { break }
            evict(block)
            block.refCount = 1
            allocated.append(block)
        }
        return allocated
    }

    /// Drops one reference to each block; blocks nobody holds go to the tail of the free queue
    /// in the order given, keeping their cached contents for later hits.
    func free<Blocks: Sequence>(_ blocksToFree: Blocks) where Blocks.Element == KVCacheBlock {
        for block in blocksToFree {
            precondition(block.refCount > 0, "block \(block.id) freed more often than it was taken")
            block.refCount -= 1
            if block.refCount == 0 { freeQueue.append(block) }
        }
    }

    /// Adds one reference to each block (a prefix-cache hit), taking free ones out of the queue.
    func touch(_ blocksToTouch: [KVCacheBlock]) {
        for block in blocksToTouch {
            if block.refCount == 0 { freeQueue.remove(block) }
            block.refCount += 1
        }
    }

    /// The cached block stored under `hash`, if any (not yet verified against its tokens).
    func cachedBlock(for hash: BlockHash) -> KVCacheBlock? {
        cachedBlocks[hash]
    }

    /// Records `block` as holding the given contents and returns its new cache key.
    /// The caller checks first that no other block is stored under `hash`.
    func cache(
        _ block: KVCacheBlock, hash: BlockHash, parentKey: UInt64, tokenIDs: [Int32], salt: String?
    ) -> UInt64 {
        precondition(block.cached == nil && cachedBlocks[hash] == nil, "block \(block.id) cached twice")
        let key = nextCacheKey
        nextCacheKey += 1
        block.cached = CachedContents(hash: hash, key: key, parentKey: parentKey, tokenIDs: tokenIDs, salt: salt)
        cachedBlocks[hash] = block
        return key
    }

    /// Forgets every cached block's contents (in use or free); later lookups miss until blocks
    /// are computed again. Keys are never reused, so chains built before stay unreachable.
    func resetPrefixCache() {
        for block in cachedBlocks.values { block.cached = nil }
        cachedBlocks.removeAll(keepingCapacity: true)
    }

    /// The free queue's order, head first (tests and diagnostics).
    var freeBlockIDs: [Int32] { freeQueue.blockIDs }

    /// Takes a block out of the prefix cache; it stays wherever it is (held or free).
    func evict(_ block: KVCacheBlock) {
        guard let contents = block.cached else { return }
        cachedBlocks[contents.hash] = nil
        block.cached = nil
    }
}
