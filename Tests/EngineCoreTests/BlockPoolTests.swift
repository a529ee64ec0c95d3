import Testing

@testable import EngineCore

struct BlockPoolTests {
    private func blocks(_ count: Int) -> [KVCacheBlock] {
        (0 ..< count).map { KVCacheBlock(id: Int32($0)) }
    }

    @Test func freeQueueKeepsOrderAndRemovesFromTheMiddle() {
        let all = blocks(5)
        var queue = FreeBlockQueue(all)
        #expect(queue.blockIDs == [0, 1, 2, 3, 4])
        queue.remove(all[2])
        queue.remove(all[0])
        queue.remove(all[4])
        #expect(queue.blockIDs == [1, 3])
        #expect(queue.count == 2)
        queue.append(all[2])
        queue.append(all[0])
        #expect(queue.blockIDs == [1, 3, 2, 0])
        #expect(queue.popFirst()?.id == 1)
        #expect(queue.popFirst()?.id == 3)
        #expect(queue.popFirst()?.id == 2)
        #expect(queue.popFirst()?.id == 0)
        #expect(queue.popFirst() == nil)
        #expect(queue.isEmpty)
        #expect(all.allSatisfy { !$0.isInFreeQueue && $0.previousFree == nil && $0.nextFree == nil })
    }

    @Test func nullBlockIsNeverAllocated() throws {
        let pool = BlockPool(numBlocks: 8)
        #expect(pool.numFreeBlocks == 7)
        let taken = try #require(pool.allocate(7))
        #expect(taken.map(\.id) == [1, 2, 3, 4, 5, 6, 7])
        #expect(pool.allocate(1) == nil)
        #expect(pool.nullBlock.refCount == 0)
        #expect(pool.usage == 1)
    }

    @Test func failedAllocationChangesNothing() throws {
        let pool = BlockPool(numBlocks: 4)
        _ = try #require(pool.allocate(2))
        #expect(pool.allocate(2) == nil)
        #expect(pool.numFreeBlocks == 1)
        #expect(pool.freeBlockIDs == [3])
    }

    @Test func refCountsFollowTouchAndFree() throws {
        let pool = BlockPool(numBlocks: 6)
        let taken = try #require(pool.allocate(2))
        #expect(taken.map(\.refCount) == [1, 1])
        pool.touch(taken)
        #expect(taken.map(\.refCount) == [2, 2])
        pool.free(taken)
        #expect(taken.map(\.refCount) == [1, 1])
        #expect(pool.numFreeBlocks == 3)
        pool.free(taken)
        #expect(taken.map(\.refCount) == [0, 0])
        #expect(pool.freeBlockIDs == [3, 4, 5, 1, 2])
        // A hit on a free block takes it out of the middle of the queue.
        pool.touch([taken[0]])
        #expect(pool.freeBlockIDs == [3, 4, 5, 2])
        #expect(taken[0].refCount == 1)
        #expect(abs(pool.usage - 0.2) < 1e-12)
    }

    @Test func allocationEvictsTheHashOfTheBlockItTakes() throws {
        let pool = BlockPool(numBlocks: 3)
        let taken = try #require(pool.allocate(2))
        let hash = BlockHash(value: 7)
        _ = pool.cache(taken[0], hash: hash, parentKey: 0, tokenIDs: [1, 2], salt: nil)
        pool.free(taken)
        // Freed but still cached: a later request can find it.
        #expect(pool.cachedBlock(for: hash) === taken[0])
        #expect(taken[0].hash == hash)
        let again = try #require(pool.allocate(1))
        #expect(again[0] === taken[0])
        #expect(pool.cachedBlock(for: hash) == nil)
        #expect(taken[0].hash == nil)
        #expect(pool.numCachedBlocks == 0)
    }

    @Test func cacheKeysAreNeverReused() throws {
        let pool = BlockPool(numBlocks: 3)
        let taken = try #require(pool.allocate(2))
        let first = pool.cache(taken[0], hash: BlockHash(value: 1), parentKey: 0, tokenIDs: [1], salt: nil)
        pool.resetPrefixCache()
        let second = pool.cache(taken[0], hash: BlockHash(value: 1), parentKey: 0, tokenIDs: [1], salt: nil)
        #expect(second > first)
    }

    @Test func freeingARequestPutsItsLastBlockFirstInLine() throws {
        let manager = KVCacheManager(blockSize: 4, numBlocks: 8)
        let request = Request(requestID: "r", promptTokenIDs: Array(0 ..< 12), samplingParams: .greedy())
        #expect(manager.allocateSlots(request, numNewTokens: 12))
        #expect(manager.blockIDs(of: "r") == [1, 2, 3])
        manager.free(request)
        // Untouched blocks first, then the sequence's tail before its head.
        #expect(manager.pool.freeBlockIDs == [4, 5, 6, 7, 3, 2, 1])
        #expect(manager.blockIDs(of: "r").isEmpty)
        #expect(manager.numFreeBlocks == 7)
    }
}
