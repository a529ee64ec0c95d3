/// Requests waiting for KV blocks, lowest (priority, arrival time, add order) first.
///
/// A binary heap: O(log n) push and pop. Removing a request from the middle (abort) only
/// marks it by its finished status; finished entries are dropped when they reach the top, and
/// the heap is rebuilt when they outnumber the live ones, so removal is O(1) amortized.
struct WaitingQueue {
    private var heap: [Request] = []
    private var numRemoved = 0

    /// Live requests waiting.
    var count: Int { heap.count - numRemoved }

    mutating func push(_ request: Request) {
        heap.append(request)
        siftUp(heap.count - 1)
    }

    /// The request to schedule next, if any.
    mutating func first() -> Request? {
        dropRemovedTop()
        return heap.first
    }

    mutating func popFirst() -> Request? {
        dropRemovedTop()
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let request = heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
        return request
    }

    /// Accounts for a request in the queue that just finished (aborted) and must not run.
    mutating func noteRemoved() {
        numRemoved += 1
        if numRemoved > 32 && numRemoved > count { rebuild() }
    }

    private mutating func dropRemovedTop() {
        while let top = heap.first, top.isFinished {
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
            numRemoved -= 1
            if !heap.isEmpty { siftDown(0) }
        }
    }

    private mutating func rebuild() {
        heap.removeAll { $0.isFinished }
        numRemoved = 0
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var best = parent
            if left < heap.count && heap[left].precedes(heap[best]) { best = left }
            if right < heap.count && heap[right].precedes(heap[best]) { best = right }
            guard best != parent else { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
