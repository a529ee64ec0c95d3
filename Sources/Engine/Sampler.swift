import Foundation
import CTernKernels
import EngineCore

/// Turns one row of logits into a token, following a request's `SamplingParams`, in
/// vLLM's order: allowed tokens and bad words, logit bias and min-tokens masking, then penalties, then greedy argmax
/// (temperature 0) or temperature → top-k → top-p → min-p → a draw.
///
/// The draw for output token i of a request uses a generator seeded from (seed, i) alone,
/// so a seeded request gives the same tokens whatever else shares its batches and however
/// often it was preempted.
public struct Sampler {
    /// [vocab] scratch, reused.
    var work: [Float] = []
    var order: [Int32] = []
    /// Unnormalised probability of `order[rank]`, for the ranks that survive the filters.
    var weights: [Float] = []

    public init() {}

    static let negligibleLogitGap: Float = 30

    /// The history a request's penalties look at.
    public struct History {
        public var promptTokenIDs: ArraySlice<Int32>
        public var outputTokenIDs: ArraySlice<Int32>
        public var eosTokenIDs: Set<Int32>
        public init(promptTokenIDs: ArraySlice<Int32>, outputTokenIDs: ArraySlice<Int32>, eosTokenIDs: Set<Int32>) {
            self.promptTokenIDs = promptTokenIDs
            self.outputTokenIDs = outputTokenIDs
            self.eosTokenIDs = eosTokenIDs
        }
    }

    /// Samples from `logits` [vocab]. `seed` is the request's seed (or one drawn for it at
    /// arrival); the output index comes from `history`.
    ///
    /// - Parameter allowed: a structured-output constraint's bitmask (bit `id % 32` of word
    ///   `id / 32` set = token `id` may come next), applied after the other processors. Where
    ///   those processors leave no allowed token (min_tokens forbidding the EOS the grammar now
    ///   requires), the grammar wins: its tokens are sampled from the raw logits.
    public mutating func sample(logits: UnsafeBufferPointer<Float>, params: SamplingParams, history: History,
                                seed: UInt64, allowed: UnsafeBufferPointer<UInt32>? = nil) -> Int32 {
        prepare(logits: logits, params: params, history: history, allowed: allowed)
        if params.temperature == 0 { return argmax() }
        let candidates = candidatesAfterFilters(params: params)
        var generator = Self.generator(seed: seed, outputIndex: history.outputTokenIDs.count)
        let draw = Float(generator.nextUnit())
        return pick(candidates: candidates, uniform: draw)
    }

    /// Puts `logits` in `work` after the processors and the mask, divided by the temperature
    /// unless greedy: what the argmax or the filters read.
    mutating func prepare(logits: UnsafeBufferPointer<Float>, params: SamplingParams, history: History,
                          allowed: UnsafeBufferPointer<UInt32>? = nil) {
        let vocabulary = logits.count
        if work.count != vocabulary { work = [Float](repeating: 0, count: vocabulary) }
        work.withUnsafeMutableBufferPointer { w in _ = w.initialize(from: logits) }
        applyProcessors(params: params, history: history)
        if let allowed, !Self.applyMask(allowed, to: &work) {
            work.withUnsafeMutableBufferPointer { w in _ = w.initialize(from: logits) }
            _ = Self.applyMask(allowed, to: &work)
        }
        if params.temperature != 0 && params.temperature != 1 {
            let inverseTemperature = 1 / params.temperature
            work.withUnsafeMutableBufferPointer { w in
                for i in 0..<vocabulary { w[i] *= inverseTemperature }
            }
        }
    }

    /// The random stream of a request's output token `outputIndex`: its seed mixed with the
    /// index alone, so that a seed repeats its draws.
    static func generator(seed: UInt64, outputIndex: Int) -> SplitMix64 {
        SplitMix64(seed: streamKey(seed: seed, outputIndex: outputIndex))
    }

    /// The key of that stream (what the device sampler draws from too).
    static func streamKey(seed: UInt64, outputIndex: Int) -> UInt64 {
        seed &+ UInt64(outputIndex) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Sets every token the mask does not allow to -inf; false when no finite logit is left.
    static func applyMask(_ allowed: UnsafeBufferPointer<UInt32>, to work: inout [Float]) -> Bool {
        work.withUnsafeMutableBufferPointer { w in
            var anyLeft = false
            for wordIndex in 0..<(w.count + 31) / 32 {
                let word = wordIndex < allowed.count ? allowed[wordIndex] : 0
                let base = wordIndex * 32
                let end = min(base + 32, w.count)
                if word == .max {
                    for i in base..<end where w[i] > -.infinity { anyLeft = true; break }
                    continue
                }
                for i in base..<end {
                    if word & (1 << UInt32(i - base)) == 0 {
                        w[i] = -.infinity
                    } else if w[i] > -.infinity {
                        anyLeft = true
                    }
                }
            }
            return anyLeft
        }
    }

    mutating func applyProcessors(params: SamplingParams, history: History) {
        let vocabulary = work.count
        if let allowed = params.allowedTokenIDs {
            var kept = [Float](repeating: -.infinity, count: vocabulary)
            for token in allowed where Int(token) < vocabulary { kept[Int(token)] = work[Int(token)] }
            work = kept
        }
        for token in params.badWordBans(after: history.outputTokenIDs) where Int(token) < vocabulary {
            work[Int(token)] = -.infinity
        }
        for (token, bias) in params.logitBias where Int(token) < vocabulary { work[Int(token)] += bias }
        if history.outputTokenIDs.count < params.minTokens {
            for token in history.eosTokenIDs.union(params.stopTokenIDs) where Int(token) < vocabulary {
                work[Int(token)] = -.infinity
            }
        }
        if params.repetitionPenalty != 1 {
            var seen = Set<Int32>(history.promptTokenIDs)
            seen.formUnion(history.outputTokenIDs)
            for token in seen where Int(token) < vocabulary {
                let logit = work[Int(token)]
                work[Int(token)] = logit > 0 ? logit / params.repetitionPenalty : logit * params.repetitionPenalty
            }
        }
        if params.presencePenalty != 0 || params.frequencyPenalty != 0 {
            var counts: [Int32: Int] = [:]
            for token in history.outputTokenIDs { counts[token, default: 0] += 1 }
            for (token, count) in counts where Int(token) < vocabulary {
                work[Int(token)] -= params.frequencyPenalty * Float(count) + params.presencePenalty
            }
        }
    }

    func argmax() -> Int32 {
        work.withUnsafeBufferPointer { w in
            var best = 0
            var bestValue = -Float.infinity
            for i in 0..<w.count where w[i] > bestValue {
                best = i
                bestValue = w[i]
            }
            return Int32(best)
        }
    }

    /// How many of `order` survive the filters (most likely first when a filter needs ranks);
    /// `weights` holds their unnormalised probabilities. `work` keeps the scaled logits.
    mutating func candidatesAfterFilters(params: SamplingParams) -> Int {
        let vocabulary = work.count
        let topK = params.topK > 0 ? min(params.topK, vocabulary) : vocabulary
        // Tokens more than `negligibleLogitGap` below the best have probability < 1e-13
        // relative to it (together < 1e-8 of the mass for any vocabulary in use): leaving them
        // out keeps the sort short without changing any draw measurably.
        let best = Int(argmax())
        let top = work[best]
        let cutoff = top - Self.negligibleLogitGap
        let needsOrder = topK < vocabulary || params.topP < 1 || params.minP > 0
        // One vectorized walk over the vocabulary keeps the tokens within the gap, ascending,
        // and, for a plain draw (no filter looks at ranks, so no sort), their weights.
        if order.count < vocabulary { order = [Int32](repeating: 0, count: vocabulary) }
        if weights.count < vocabulary { weights = [Float](repeating: 0, count: vocabulary) }
        var within = work.withUnsafeBufferPointer { w in
            order.withUnsafeMutableBufferPointer { o in
                weights.withUnsafeMutableBufferPointer { p in
                    Int(tern_sampling_candidates(w.baseAddress!, Int64(vocabulary), cutoff, top, o.baseAddress!,
                                                 needsOrder ? nil : p.baseAddress!))
                }
            }
        }
        if within == 0 {
            order[0] = Int32(best)
            weights[0] = 1
            within = 1
        }
        if !needsOrder { return within }
        // Most likely first, written back over `order` (which keeps its vocabulary-sized buffer).
        let ranked = work.withUnsafeBufferPointer { logits in
            topK < within
                ? Array(order[0..<within]).partialSorted(by: { logits[Int($0)] > logits[Int($1)] }, count: topK)
                : order[0..<within].sorted { logits[Int($0)] > logits[Int($1)] }
        }
        // Softmax over the ranked tokens.
        let maxLogit = work[Int(ranked[0])]
        var total: Float = 0
        for (rank, token) in ranked.enumerated() {
            let p = (work[Int(token)] - maxLogit).exponentiated
            order[rank] = token
            weights[rank] = p
            total += p
        }
        var kept = ranked.count
        if params.topP < 1 {
            var cumulative: Float = 0
            for rank in ranked.indices {
                cumulative += weights[rank] / total
                if cumulative >= params.topP {
                    kept = rank + 1
                    break
                }
            }
        }
        if params.minP > 0 {
            let threshold = params.minP * weights[0]
            while kept > 1 && weights[kept - 1] < threshold { kept -= 1 }
        }
        return kept
    }

    func pick(candidates: Int, uniform: Float) -> Int32 {
        weights.withUnsafeBufferPointer { w in
            var total: Float = 0
            for rank in 0..<candidates { total += w[rank] }
            var target = uniform * total
            for rank in 0..<candidates {
                target -= w[rank]
                if target < 0 { return order[rank] }
            }
            return order[candidates - 1]
        }
    }
}

extension Float {
    fileprivate var exponentiated: Float { Foundation.exp(self) }
}

extension Array {
    /// The first `count` elements in sorted order (a heap select, O(n log count)).
    fileprivate func partialSorted(by areInIncreasingOrder: (Element, Element) -> Bool, count: Int) -> [Element] {
        guard count < self.count else { return sorted(by: areInIncreasingOrder) }
        var heap = Array(prefix(count)).sorted(by: areInIncreasingOrder)
        for element in dropFirst(count) where areInIncreasingOrder(element, heap[count - 1]) {
            var index = heap.count - 1
            heap[index] = element
            while index > 0 && areInIncreasingOrder(heap[index], heap[index - 1]) {
                heap.swapAt(index, index - 1)
                index -= 1
            }
        }
        return heap
    }
}
