import Testing

@testable import EngineCore

struct PrefixCacheTests {
    private func request(_ id: String, _ tokens: [Int32], salt: String? = nil) -> Request {
        Request(requestID: id, promptTokenIDs: tokens, samplingParams: .greedy(), cacheSalt: salt)
    }

    /// Admits a request as the scheduler does and computes all its tokens in one step.
    /// Returns the number of tokens found in the prefix cache.
    @discardableResult
    private func admitAndCompute(_ manager: KVCacheManager, _ request: Request) -> Int {
        let (hits, numHitTokens) = manager.computedBlocks(for: request)
        let allocated = manager.allocateSlots(
            request, numNewTokens: request.numTokens - numHitTokens, newComputedBlocks: hits)
        #expect(allocated)
        manager.cacheFullBlocks(of: request, numTokens: request.numTokens)
        request.numComputedTokens = request.numTokens
        return numHitTokens
    }

    @Test func sharedPrefixHitsFullBlocks() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16)
        let a = request("a", Array(0 ..< 10))
        #expect(admitAndCompute(manager, a) == 0)
        // Blocks 0 and 1 are full; tokens 8 and 9 sit in a partial block that is never cached.
        #expect(manager.pool.numCachedBlocks == 2)

        let b = request("b", Array(0 ..< 8) + [99, 98, 97])
        #expect(admitAndCompute(manager, b) == 8)
        let aBlocks = manager.blockIDs(of: "a")
        let bBlocks = manager.blockIDs(of: "b")
        #expect(Array(bBlocks.prefix(2)) == Array(aBlocks.prefix(2)))
        #expect(bBlocks[2] != aBlocks[2])
        #expect(manager.blocks(of: "a")[0].refCount == 2)
        #expect(manager.blocks(of: "a")[2].refCount == 1)
    }

    @Test func hitNeverCoversTheWholePrompt() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16)
        admitAndCompute(manager, request("a", Array(0 ..< 8)))
        // Same 8 tokens: the last one must be recomputed for logits, so only block 0 hits.
        let (hits, tokens) = manager.computedBlocks(for: request("b", Array(0 ..< 8)))
        #expect(hits.count == 1)
        #expect(tokens == 4)
        let (longerHits, longerTokens) = manager.computedBlocks(for: request("c", Array(0 ..< 9)))
        #expect(longerHits.count == 2)
        #expect(longerTokens == 8)
    }

    @Test func differentFirstBlockMissesEverything() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16)
        admitAndCompute(manager, request("a", Array(0 ..< 12)))
        // Same second and third blocks after a different first block: no hit at all.
        let (hits, _) = manager.computedBlocks(for: request("b", [50, 51, 52, 53] + Array(4 ..< 12) + [1]))
        #expect(hits.isEmpty)
    }

    @Test func hashCollisionsNeverReturnTheWrongBlock() {
        // Every block hashes alike: only the stored tokens and parent keys tell them apart.
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16, hashFunction: { _, _, _ in BlockHash(value: 1) })
        admitAndCompute(manager, request("a", Array(0 ..< 5)))
        #expect(manager.pool.numCachedBlocks == 1)

        #expect(manager.computedBlocks(for: request("b", [7, 7, 7, 7, 1])).blocks.isEmpty)

        let (hits, tokens) = manager.computedBlocks(for: request("c", Array(0 ..< 4) + [40]))
        #expect(hits.map(\.id) == [manager.blockIDs(of: "a")[0]])
        #expect(tokens == 4)
    }

    @Test func collidingBlockAtAnotherPositionIsNoHit() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16, hashFunction: { _, _, _ in BlockHash(value: 1) })
        // Block 1 of d takes the shared hash over from its block 0.
        let d = request("d", [5, 6, 7, 8, 5, 6, 7, 8, 0])
        admitAndCompute(manager, d)
        #expect(manager.pool.cachedBlock(for: BlockHash(value: 1)) === manager.blocks(of: "d")[1])
        // Same tokens as that block, but as a first block: its parent differs, so no hit.
        #expect(manager.computedBlocks(for: request("e", [5, 6, 7, 8, 0])).blocks.isEmpty)
    }

    @Test func newerBlockTakesACollidingHashOver() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16, hashFunction: { _, _, _ in BlockHash(value: 1) })
        admitAndCompute(manager, request("a", [1, 1, 1, 1, 0]))
        admitAndCompute(manager, request("b", [2, 2, 2, 2, 0]))
        #expect(manager.computedBlocks(for: request("c", [1, 1, 1, 1, 5])).blocks.isEmpty)
        #expect(manager.computedBlocks(for: request("d", [2, 2, 2, 2, 5])).blocks.count == 1)
    }

    @Test func evictedBlocksMiss() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 5)
        let a = request("a", Array(0 ..< 9))
        admitAndCompute(manager, a)
        manager.free(a)
        #expect(manager.computedBlocks(for: request("probe", Array(0 ..< 9))).blocks.count == 2)
        // Filling the pool reuses a's blocks, tail block first, evicting their hashes.
        let filler = request("f", Array(100 ..< 112))
        admitAndCompute(manager, filler)
        let (hits, _) = manager.computedBlocks(for: request("b", Array(0 ..< 9)))
        #expect(hits.count == 1, "block 0 of a was freed last, so it is still cached")
        manager.free(filler)
        let other = request("g", Array(200 ..< 216))
        admitAndCompute(manager, other)
        #expect(manager.computedBlocks(for: request("c", Array(0 ..< 9))).blocks.isEmpty)
    }

    @Test func childOfAnEvictedParentIsUnreachable() throws {
        let manager = KVCacheManager(blockSize: 2, numBlocks: 6)
        let a = request("a", [1, 2, 3, 4, 5])
        admitAndCompute(manager, a)
        let aBlocks = manager.blocks(of: "a")
        manager.free(a)
        // Hold the child (as another request would) and take every free block: the parent is
        // evicted while the child stays in the cache map.
        manager.pool.touch([aBlocks[1]])
        let taken = try #require(manager.pool.allocate(manager.numFreeBlocks))
        #expect(aBlocks[0].hash == nil)
        #expect(aBlocks[1].hash != nil)
        manager.pool.free(taken + [aBlocks[1]])
        // Recomputing [1, 2] makes a new cache entry; the old child does not chain to it.
        admitAndCompute(manager, request("b", [1, 2, 9]))
        let (hits, _) = manager.computedBlocks(for: request("c", [1, 2, 3, 4, 9]))
        #expect(hits.count == 1)
    }

    @Test func identicalBlocksComputedTogetherChainTheirSuccessors() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16)
        let prefix = Array(Int32(0) ..< 8)
        let a = request("a", prefix)
        let b = request("b", prefix + [20, 21, 22, 23])
        // Both allocated before either caches, as two requests computing the same tokens side
        // by side: neither found the other's blocks.
        for r in [a, b] {
            #expect(manager.allocateSlots(r, numNewTokens: r.numTokens))
        }
        manager.cacheFullBlocks(of: a, numTokens: a.numTokens)
        manager.cacheFullBlocks(of: b, numTokens: b.numTokens)
        #expect(manager.pool.numCachedBlocks == 3)
        let (hits, tokens) = manager.computedBlocks(for: request("c", prefix + [20, 21, 22, 23, 5]))
        #expect(tokens == 12)
        #expect(hits.map(\.id) == Array(manager.blockIDs(of: "a").prefix(2)) + [manager.blockIDs(of: "b")[2]])
    }

    @Test func saltSeparatesCaches() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16)
        admitAndCompute(manager, request("a", Array(0 ..< 9), salt: "alice"))
        #expect(manager.computedBlocks(for: request("b", Array(0 ..< 9), salt: "bob")).blocks.isEmpty)
        #expect(manager.computedBlocks(for: request("c", Array(0 ..< 9))).blocks.isEmpty)
        #expect(manager.computedBlocks(for: request("d", Array(0 ..< 9), salt: "alice")).blocks.count == 2)
    }

    @Test func disabledPrefixCachingNeverHits() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16, enablePrefixCaching: false)
        let a = request("a", Array(0 ..< 9))
        admitAndCompute(manager, a)
        #expect(manager.pool.numCachedBlocks == 0)
        #expect(a.blockHashes.isEmpty)
        #expect(manager.computedBlocks(for: request("b", Array(0 ..< 9))).blocks.isEmpty)
        manager.recordLookup(numQueriedTokens: 9, numHitTokens: 0)
        #expect(manager.prefixCacheStats == PrefixCacheStats())
    }

    @Test func resetForgetsEverything() {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 16)
        let a = request("a", Array(0 ..< 9))
        admitAndCompute(manager, a)
        manager.resetPrefixCache()
        #expect(manager.pool.numCachedBlocks == 0)
        #expect(manager.computedBlocks(for: request("b", Array(0 ..< 9))).blocks.isEmpty)
        // The running request keeps its blocks and caches nothing more of its old chain.
        #expect(manager.blockIDs(of: "a").count == 3)
        a.appendOutputToken(1)
        a.appendOutputToken(2)
        a.appendOutputToken(3)
        #expect(manager.allocateSlots(a, numNewTokens: 3))
        manager.cacheFullBlocks(of: a, numTokens: 12)
        #expect(manager.pool.numCachedBlocks == 0)
    }

    @Test func allocationCountsHitsOnFreeBlocks() {
        // 4 usable blocks. a's two cached blocks are free; b hits both and needs 2 more.
        let manager = KVCacheManager(blockSize: 4, numBlocks: 5)
        let a = request("a", Array(0 ..< 8))
        admitAndCompute(manager, a)
        manager.free(a)
        let b = request("b", Array(0 ..< 8) + Array(100 ..< 109))
        let (hits, numHitTokens) = manager.computedBlocks(for: b)
        #expect(hits.count == 2)
        // 17 tokens need 5 blocks: 2 hits + 3 new, but only 2 remain once the hits are taken.
        #expect(!manager.allocateSlots(b, numNewTokens: b.numTokens - numHitTokens, newComputedBlocks: hits))
        #expect(manager.numFreeBlocks == 4)
        #expect(hits.allSatisfy { $0.refCount == 0 && $0.hash != nil })
        #expect(manager.blockIDs(of: "b").isEmpty)
    }
}
