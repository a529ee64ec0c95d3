/// One page of the KV cache: `blockSize` token slots in every layer's K and V tensors.
///
/// The block itself holds no tensor data; the model runner addresses the slots as
/// `id * blockSize + offset`. The block pool owns every block for its whole life.
final class KVCacheBlock {
    /// Index of the block in the pool, 0..<numBlocks; 0 is the null block.
    let id: Int32
    /// Requests whose block tables hold this block. At 0 the block sits in the free queue,
    /// where it keeps its cached contents until it is handed out again.
    var refCount: Int32 = 0
    /// What the block holds while it is in the prefix cache; nil otherwise.
    var cached: CachedContents?

    /// Intrusive links of the free queue (`unowned`: the pool's array keeps blocks alive).
    unowned var previousFree: KVCacheBlock?
    unowned var nextFree: KVCacheBlock?
    var isInFreeQueue = false

    init(id: Int32) {
        self.id = id
    }

    /// The block's hash while it is in the prefix cache.
    var hash: BlockHash? { cached?.hash }
}

/// The identity of a cached block's contents, enough to verify a hash hit exactly.
struct CachedContents {
    /// Key of the block in the prefix cache map.
    let hash: BlockHash
    /// Unique, never reused number of this cache entry (from 1); a child records its parent's.
    let key: UInt64
    /// `key` of the block before this one when it was cached; 0 for a sequence's first block.
    let parentKey: UInt64
    /// The block's tokens (`blockSize` of them).
    let tokenIDs: [Int32]
    /// The cache salt of a first block; nil for later blocks (their parent carries it).
    let salt: String?

    /// Whether these are the contents of the block that follows `parentKey` and holds
    /// `tokenIDs`. Parent keys are never reused, so a chain of matches can only follow blocks
    /// computed from the same tokens, whatever the hashes do.
    func matches(parentKey: UInt64, tokenIDs: ArraySlice<Int32>, salt: String?) -> Bool {
        self.parentKey == parentKey && self.salt == salt && self.tokenIDs.elementsEqual(tokenIDs)
    }
}
