/// Prompt-lookup drafts (vLLM's `ngram` method): the tokens that followed the latest earlier
/// occurrence of the sequence's last n tokens, n from `maxN` down to `minN`.
///
/// Knows tokens only. Copying workloads (code edits, quotes, summaries, structured rewrites)
/// repeat long runs of their prompt, so the run after a match is often what the model writes
/// next; elsewhere matches are rare or wrong, and the acceptance the policy measures stops
/// the drafts.
public struct NgramProposer: Sendable, Equatable {
    /// Shortest and longest suffix matched, in tokens (vLLM's prompt_lookup_min / _max).
    public let minN: Int
    public let maxN: Int

    public init(minN: Int, maxN: Int) {
        precondition(minN >= 1 && maxN >= minN, "need 1 <= minN <= maxN")
        self.minN = minN
        self.maxN = maxN
    }

    /// `count` tokens from `from` on; past the end they repeat the ones taken (the match's
    /// period), so a loop the sequence is in is drafted in full.
    private static func continuation(_ t: UnsafeBufferPointer<Int32>, from: Int, count: Int) -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(count)
        for m in 0 ..< count {
            result.append(from + m < t.count ? t[from + m] : result[from + m - t.count])
        }
        return result
    }

    /// Up to `count` tokens to follow `tokens` (prompt and output so far): after the latest
    /// earlier occurrence of the longest suffix of `maxN ... minN` tokens that occurs before
    /// (`count` exactly, then). Empty when no suffix recurs. O(tokens × n) in the worst case, one pass per length.
    public func propose(after tokens: [Int32], count: Int) -> [Int32] {
        guard count > 0 else { return [] }
        return tokens.withUnsafeBufferPointer { t in
            let length = t.count
            var n = min(maxN, length - 1)
            while n >= minN {
                let suffixStart = length - n
                // Latest start i < suffixStart whose n tokens equal the suffix.
                var i = suffixStart - 1
                while i >= 0 {
                    if t[i] == t[suffixStart] {
                        var j = 1
                        while j < n && t[i + j] == t[suffixStart + j] { j += 1 }
                        if j == n { return Self.continuation(t, from: i + n, count: count) }
                    }
                    i -= 1
                }
                n -= 1
            }
            return []
        }
    }
}
