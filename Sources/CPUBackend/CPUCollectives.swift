import CTernKernels

/// The collectives of in-process tensor-parallel ranks over shared memory, NCCL's
/// all-reduce and all-gather for ranks that are objects in one process: each rank writes its
/// part into its own buffer, then every rank reads the one combined result. Sums run in rank
/// order, so the result is the same bits every run whatever the timing. One buffer per rank,
/// grown to the largest step seen and reused.
public final class CPUCollectives: @unchecked Sendable {
    public let rankCount: Int
    private let buffers: [FloatBuffer]  // [ranks] of (count)

    public init(rankCount: Int) {
        self.rankCount = rankCount
        buffers = (0..<rankCount).map { _ in FloatBuffer(count: 0) }
    }

    /// Makes room for `count` floats in every rank's buffer.
    public func reserve(_ count: Int) {
        for buffer in buffers { buffer.reserve(count) }
    }

    /// Where rank `rank` writes its part, `reserve`d floats long.
    public func buffer(rank: Int) -> UnsafeMutablePointer<Float> { buffers[rank].pointer }

    /// out[0..<count] = Σ ranks' buffers (out += that sum with `accumulate`), added in rank order.
    public func allReduceSum(count: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let sum = buffers[0].pointer
        for rank in 1..<rankCount { tern_add(sum, buffers[rank].pointer, Int64(count)) }
        if accumulate {
            tern_add(out, sum, Int64(count))
        } else {
            out.update(from: sum, count: count)
        }
    }

    /// out [rows, Σ widths] = the ranks' buffers, [rows, widths[rank]] each, side by side.
    public func allGather(rows: Int, widths: [Int], into out: UnsafeMutablePointer<Float>) {
        let total = widths.reduce(0, +)
        var column = 0
        for (rank, width) in widths.enumerated() {
            for row in 0..<rows {
                (out + row * total + column).update(from: buffers[rank].pointer + row * width, count: width)
            }
            column += width
        }
    }
}
