/// The free KV blocks in least-recently-freed-first order: an intrusive doubly linked list
/// threaded through the blocks themselves (vLLM's `FreeKVCacheBlockQueue`).
///
/// Allocation pops the head; freeing appends at the tail; a prefix-cache hit on a free block
/// takes it out of the middle. All three are O(1) and allocate nothing.
struct FreeBlockQueue {
    private(set) var count = 0
    private var head: KVCacheBlock?
    private var tail: KVCacheBlock?

    /// A queue holding `blocks` in the given order.
    init(_ blocks: [KVCacheBlock]) {
        for block in blocks { append(block) }
    }

    var isEmpty: Bool { count == 0 }

    /// Takes the least recently freed block.
    mutating func popFirst() -> KVCacheBlock? {
        guard let block = head else { return nil }
        remove(block)
        return block
    }

    /// Adds a block as the most recently freed.
    mutating func append(_ block: KVCacheBlock) {
        precondition(!block.isInFreeQueue, "block \(block.id) is already in the free queue")
        block.previousFree = tail
        block.nextFree = nil
        if let tail { tail.nextFree = block } else { head = block }
        tail = block
        block.isInFreeQueue = true
        count += 1
    }

    /// Unlinks a block from anywhere in the queue.
    mutating func remove(_ block: KVCacheBlock) {
        precondition(block.isInFreeQueue, "block \(block.id) is not in the free queue")
        if let previous = block.previousFree { previous.nextFree = block.nextFree } else { head = block.nextFree }
        if let next = block.nextFree { next.previousFree = block.previousFree } else { tail = block.previousFree }
        block.previousFree = nil
        block.nextFree = nil
        block.isInFreeQueue = false
        count -= 1
    }

    /// The ids from head (next to be allocated) to tail; O(count), for tests and diagnostics.
    var blockIDs: [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(count)
        var cursor = head
        while let block = cursor {
            ids.append(block.id)
            cursor = block.nextFree
        }
        return ids
    }
}
