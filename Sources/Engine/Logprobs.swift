import Foundation

/// Log-probabilities from raw logits (vLLM's default: before penalties and temperature).
enum Logprobs {
    /// The logprob of `token` under softmax(`logits`) and the `top` most likely tokens.
    static func of(token: Int32, in logits: UnsafeBufferPointer<Float>, top: Int) -> TokenLogprob {
        var maximum = -Float.infinity
        for value in logits where value > maximum { maximum = value }
        var sum: Double = 0
        for value in logits { sum += exp(Double(value - maximum)) }
        let logNormalizer = Float(log(sum)) + maximum
        var best: [(tokenID: Int32, logprob: Float)] = []
        if top > 0 {
            best.reserveCapacity(top + 1)
            for (index, value) in logits.enumerated() where best.count < top || value > best[best.count - 1].logprob {
                let insertAt = best.firstIndex { value > $0.logprob } ?? best.count
                best.insert((Int32(index), value), at: insertAt)
                if best.count > top { best.removeLast() }
            }
            best = best.map { ($0.tokenID, $0.logprob - logNormalizer) }
        }
        let value = logits[Int(token)]
        var above = 0
        for other in logits where other > value { above += 1 }
        return TokenLogprob(tokenID: token, logprob: value - logNormalizer, top: best, rank: above + 1)
    }
}
