/// What merging two adjacent tokens gives: the token and its priority (lower merges first).
struct MergeTarget: Sendable {
    var rank: Int64
    var id: Int32
}

/// The BPE merge loop over one word, as HF tokenizers' `Word::merge_all` runs it: the candidate
/// pairs sit in a min-heap ordered by (rank, position), so among equal ranks the leftmost pair
/// merges first; symbols form a linked list so that a merge costs O(log n).
enum BPEMerger {
    private struct Candidate {
        var rank: Int64
        var position: Int32
        var id: Int32

        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    /// Merges `symbols` (token ids) in place until no adjacent pair has a merge.
    static func mergeAll(_ symbols: inout [Int32], lookup: (Int32, Int32) -> MergeTarget?) {
        let count = symbols.count
        guard count > 1 else { return }
        var previous = (0..<count).map { Int32($0) - 1 }
        var next = (0..<count).map { $0 + 1 < count ? Int32($0 + 1) : -1 }
        var alive = [Bool](repeating: true, count: count)
        var heap: [Candidate] = []
        heap.reserveCapacity(count)
        for position in 0..<(count - 1) {
            if let target = lookup(symbols[position], symbols[position + 1]) {
                push(Candidate(rank: target.rank, position: Int32(position), id: target.id), onto: &heap)
            }
        }
        while let top = pop(&heap) {
            let position = Int(top.position)
            guard alive[position], next[position] >= 0 else { continue }
            let right = Int(next[position])
            // A stale candidate: the pair at this position has changed since it was queued.
            guard lookup(symbols[position], symbols[right])?.id == top.id else { continue }
            symbols[position] = top.id
            alive[right] = false
            next[position] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = top.position }
            if previous[position] >= 0 {
                let left = Int(previous[position])
                if let target = lookup(symbols[left], top.id) {
                    push(Candidate(rank: target.rank, position: Int32(left), id: target.id), onto: &heap)
                }
            }
            if next[position] >= 0, let target = lookup(top.id, symbols[Int(next[position])]) {
                push(Candidate(rank: target.rank, position: top.position, id: target.id), onto: &heap)
            }
        }
        var write = 0
        for index in 0..<count where alive[index] {
            symbols[write] = symbols[index]
            write += 1
        }
        symbols.removeLast(count - write)
    }

    private static func push(_ candidate: Candidate, onto heap: inout [Candidate]) {
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private static func pop(_ heap: inout [Candidate]) -> Candidate? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var best = left
            if left + 1 < heap.count, heap[left + 1].precedes(heap[left]) { best = left + 1 }
            guard heap[best].precedes(heap[parent]) else { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
