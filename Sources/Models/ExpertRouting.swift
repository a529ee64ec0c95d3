import Foundation

/// Top-k routing of tokens to experts, and the grouping of the routed rows by expert.
///
/// Each token's router logits go through a softmax over all experts (in Float, as
/// transformers does whatever the activations' type), the k largest probabilities choose the
/// experts (ties go to the lower expert index), and with `normalize` the k probabilities are
/// divided by their sum so they add to 1. Mixtral, Qwen3-MoE, Qwen2-MoE and OLMoE (the last three
/// renormalising iff `norm_topk_prob`) all take this order: softmax, top-k, renormalisation.
/// gpt-oss takes the top-k logits and a softmax over those k: the same experts and weights, as
/// the softmax is monotonic and renormalising it over the k cancels the other experts' terms.
public struct ExpertRouting {
    public let expertCount: Int
    public let topK: Int
    public let normalize: Bool

    /// Per routed slot (token t's j-th choice is slot t·k + j): the expert and its weight.
    public private(set) var experts: [Int32] = []
    public private(set) var weights: [Float] = []
    /// The slots ordered by expert, then by token: expert e's slots are
    /// `order[offsets[e] ..< offsets[e + 1]]`.
    public private(set) var order: [Int32] = []
    public private(set) var offsets: [Int] = []
    private var probabilities: [Float]
    private var nextRow: [Int] = []

    public init(expertCount: Int, topK: Int, normalize: Bool) {
        precondition(topK >= 1 && topK <= expertCount, "top-k \(topK) of \(expertCount) experts")
        self.expertCount = expertCount
        self.topK = topK
        self.normalize = normalize
        probabilities = Array(repeating: 0, count: expertCount)
    }

    /// Routes `tokens` tokens from their logits [tokens, expertCount], then groups the slots.
    public mutating func route(logits: UnsafePointer<Float>, tokens: Int) {
        let slots = tokens * topK
        // The arrays keep their storage from step to step: no allocation once the largest batch was seen.
        experts.removeAll(keepingCapacity: true)
        experts.append(contentsOf: repeatElement(-1, count: slots))
        weights.removeAll(keepingCapacity: true)
        weights.append(contentsOf: repeatElement(0, count: slots))
        for t in 0..<tokens {
            let row = logits + t * expertCount
            var largest = -Float.infinity
            for e in 0..<expertCount { largest = max(largest, row[e]) }
            var sum: Float = 0
            for e in 0..<expertCount {
                probabilities[e] = exp(row[e] - largest)
                sum += probabilities[e]
            }
            for e in 0..<expertCount { probabilities[e] /= sum }
            chooseTopK(into: t * topK)
        }
        group()
    }

    /// The k largest of `probabilities` into slots `first ..< first + k`, largest first.
    /// A selection pass per slot: k is small (2 to 8) and the expert count at most a few hundred.
    private mutating func chooseTopK(into first: Int) {
        var taken: Float = 0
        for j in 0..<topK {
            var best = -1
            for e in 0..<expertCount where !experts[first ..< first + j].contains(Int32(e)) {
                if best < 0 || probabilities[e] > probabilities[best] { best = e }
            }
            experts[first + j] = Int32(best)
            weights[first + j] = probabilities[best]
            taken += probabilities[best]
        }
        if normalize {
            for j in 0..<topK { weights[first + j] /= taken }
        }
    }

    /// A counting sort of the slots by expert (stable, so each expert's rows keep token order).
    private mutating func group() {
        offsets.removeAll(keepingCapacity: true)
        offsets.append(contentsOf: repeatElement(0, count: expertCount + 1))
        for expert in experts { offsets[Int(expert) + 1] += 1 }
        for e in 0..<expertCount { offsets[e + 1] += offsets[e] }
        nextRow.removeAll(keepingCapacity: true)
        nextRow.append(contentsOf: offsets)
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: repeatElement(0, count: experts.count))
        for (slot, expert) in experts.enumerated() {
            order[nextRow[Int(expert)]] = Int32(slot)
            nextRow[Int(expert)] += 1
        }
    }
}
