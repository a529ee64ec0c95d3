/// Which KV blocks each request holds, and the prefix cache over them (vLLM's
/// `KVCacheManager` with a single attention type).
///
/// A request's block table grows as its tokens are scheduled. Its blocks enter the prefix cache
/// as soon as they are full of scheduled tokens, so a later request with the same prefix (or
/// the same request resumed after preemption, or another of `n` completions) starts from them
/// instead of recomputing.
public final class KVCacheManager {
    /// Tokens per block.
    public let blockSize: Int
    /// Blocks in the pool, counting the reserved null block 0.
    public let numBlocks: Int
    public let enablePrefixCaching: Bool
    /// Lookups and hits since the start (counted when a request is admitted).
    public private(set) var prefixCacheStats = PrefixCacheStats()

    let pool: BlockPool
    private let hashFunction: BlockHashFunction
    private var requestBlocks: [String: RequestBlocks] = [:]

    /// - Parameter hashFunction: replaced only by tests that force hash collisions.
    init(
        blockSize: Int = 16,
        numBlocks: Int,
        enablePrefixCaching: Bool = true,
        hashFunction: @escaping BlockHashFunction = BlockHash.init(parent:tokenIDs:salt:)
    ) {
        precondition(blockSize >= 1, "blockSize must be >= 1")
        self.blockSize = blockSize
        self.numBlocks = numBlocks
        self.enablePrefixCaching = enablePrefixCaching
        self.hashFunction = hashFunction
        pool = BlockPool(numBlocks: numBlocks)
    }

    /// Fraction of the usable blocks (all but the null block) held by requests, in [0, 1].
    public var usage: Double { pool.usage }

    /// Blocks that can be allocated now.
    public var numFreeBlocks: Int { pool.numFreeBlocks }

    /// The block table of a request: its blocks' ids in sequence order; empty if it holds none.
    public func blockIDs(of requestID: String) -> [Int32] {
        requestBlocks[requestID]?.blockIDs ?? []
    }

    /// Empties the prefix cache. Requests keep their blocks; blocks computed before the reset
    /// are never found again.
    public func resetPrefixCache() {
        pool.resetPrefixCache()
        for state in requestBlocks.values { state.stopCaching() }
    }

    /// The longest run of cached full blocks that starts the request's tokens.
    ///
    /// Never covers the whole sequence: the last token must be fed to the model to get the
    /// logits of the next one, so at most `numTokens - 1` tokens count as computed (vLLM).
    /// - Returns: the blocks (not yet referenced: pass them to `allocateSlots`) and the number
    ///   of tokens they hold.
    func computedBlocks(for request: Request) -> (blocks: [KVCacheBlock], numComputedTokens: Int) {
        guard enablePrefixCaching else { return ([], 0) }
        request.updateBlockHashes(blockSize: blockSize, using: hashFunction)
        let maxHits = min((request.numTokens - 1) / blockSize, request.blockHashes.count)
        var hits: [KVCacheBlock] = []
        var parentKey: UInt64 = 0
        for index in 0 ..< maxHits {
            guard let block = pool.cachedBlock(for: request.blockHashes[index]),
                  let contents = block.cached,
                  contents.matches(
                      parentKey: parentKey, tokenIDs: tokens(of: request, block: index),
                      salt: index == 0 ? request.cacheSalt : nil)
            else { break }
            hits.append(block)
            parentKey = contents.key
        }
        return (hits, hits.count * blockSize)
    }

    /// Makes room for `numNewTokens` more tokens of the request after its computed ones.
    ///
    /// - Parameters:
    ///   - newComputedBlocks: prefix-cache hits from `computedBlocks(for:)`, only on the
    ///     request's first allocation; its `numComputedTokens` must not include them yet.
    /// - Returns: false, with nothing changed, when the free blocks do not suffice.
    func allocateSlots(_ request: Request, numNewTokens: Int, newComputedBlocks: [KVCacheBlock] = []) -> Bool {
        let existing = requestBlocks[request.requestID]
        let numHeld = existing?.blocks.count ?? 0
        precondition(newComputedBlocks.isEmpty || numHeld == 0, "prefix hits given to a request holding blocks")
        let numComputed = request.numComputedTokens + newComputedBlocks.count * blockSize
        let numRequired = (numComputed + numNewTokens + blockSize - 1) / blockSize
        let numNewBlocks = max(0, numRequired - numHeld - newComputedBlocks.count)
        // Hits on free blocks leave the free queue, so they cannot also be handed out as new.
        let numFreeHits = newComputedBlocks.reduce(0) { $0 + ($1.refCount == 0 ? 1 : 0) }
        guard numNewBlocks <= pool.numFreeBlocks - numFreeHits else { return false }

        let state = existing ?? RequestBlocks()
        if existing == nil { requestBlocks[request.requestID] = state }
        if let lastHit = newComputedBlocks.last?.cached {
            pool.touch(newComputedBlocks)
            state.append(newComputedBlocks)
            state.numChainedBlocks = newComputedBlocks.count
            state.chainKey = lastHit.key
        }
        if numNewBlocks > 0, let blocks = pool.allocate(numNewBlocks) { state.append(blocks) }
        return true
    }

    /// Puts the request's blocks that are full within its first `numTokens` tokens into the
    /// prefix cache; O(newly full blocks).
    ///
    /// As in vLLM, the scheduler calls this when it schedules the tokens, before the model has
    /// computed them: their K/V are written in the same step, and the model runner writes the
    /// K/V of every scheduled token (in each layer) before attention reads any. So a request
    /// admitted later in the same step, such as another of `n` completions, starts from these
    /// blocks instead of computing the prompt again.
    func cacheFullBlocks(of request: Request, numTokens: Int) {
        guard enablePrefixCaching, let state = requestBlocks[request.requestID], state.isCaching else { return }
        let numFull = min(min(numTokens, request.numTokens) / blockSize, state.blocks.count)
        guard numFull > state.numChainedBlocks else { return }
        request.updateBlockHashes(blockSize: blockSize, using: hashFunction)
        for index in state.numChainedBlocks ..< numFull {
            let hash = request.blockHashes[index]
            let tokenIDs = tokens(of: request, block: index)
            let salt = index == 0 ? request.cacheSalt : nil
            if let existing = pool.cachedBlock(for: hash), let contents = existing.cached {
                if contents.matches(parentKey: state.chainKey, tokenIDs: tokenIDs, salt: salt) {
                    // Another request computed the same contents alongside this one: keep the
                    // cached copy and chain this request's later blocks to it.
                    state.chainKey = contents.key
                    state.numChainedBlocks = index + 1
                    continue
                }
                // A hash collision or a chain whose parent left the cache: the newer block
                // takes the hash over, so stale entries never block caching for good.
                pool.evict(existing)
            }
            state.chainKey = pool.cache(
                state.blocks[index], hash: hash, parentKey: state.chainKey, tokenIDs: Array(tokenIDs), salt: salt)
            state.numChainedBlocks = index + 1
        }
    }

    /// Frees the request's trailing blocks beyond those holding its first `count` tokens
    /// (rejected draft tokens' slots). Those blocks were never cached: blocks enter the
    /// prefix cache only when full of the request's known tokens.
    func trimSlots(_ request: Request, keepingTokens count: Int) {
        guard let state = requestBlocks[request.requestID] else { return }
        let numKept = (count + blockSize - 1) / blockSize
        guard state.blocks.count > numKept else { return }
        precondition(numKept >= state.numChainedBlocks, "trimming a block in the prefix cache")
        pool.free(state.removeBlocks(after: numKept).reversed())
    }

    /// Returns the request's blocks to the pool, last block first, so that the free queue
    /// evicts a sequence's tail before its shared prefix (vLLM).
    func free(_ request: Request) {
        guard let state = requestBlocks.removeValue(forKey: request.requestID) else { return }
        pool.free(state.blocks.reversed())
    }

    /// Counts one prefix-cache lookup for the stats.
    func recordLookup(numQueriedTokens: Int, numHitTokens: Int) {
        guard enablePrefixCaching else { return }
        prefixCacheStats.requests += 1
        prefixCacheStats.queriedTokens += numQueriedTokens
        prefixCacheStats.hitTokens += numHitTokens
    }

    /// The blocks a request holds, in order (tests and invariant checks).
    func blocks(of requestID: String) -> [KVCacheBlock] {
        requestBlocks[requestID]?.blocks ?? []
    }

    private func tokens(of request: Request, block index: Int) -> ArraySlice<Int32> {
        request.allTokenIDs[index * blockSize ..< (index + 1) * blockSize]
    }
}

/// Prefix-cache effectiveness, in tokens (vLLM's `PrefixCacheStats`).
public struct PrefixCacheStats: Sendable, Equatable {
    /// Requests looked up (each admission, including resumptions after preemption).
    public var requests = 0
    /// Tokens of those requests.
    public var queriedTokens = 0
    /// Tokens found in the cache.
    public var hitTokens = 0

    /// Fraction of queried tokens that hit, in [0, 1].
    public var hitRate: Double { queriedTokens == 0 ? 0 : Double(hitTokens) / Double(queriedTokens) }
}
