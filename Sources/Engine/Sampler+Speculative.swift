import EngineCore

extension Sampler {
    /// Verifies a request's draft tokens against the target model's logits, keeping the
    /// drafts its own sampling would confirm and ending with one token of its own.
    ///
    /// Row i [vocab] holds the logits after the request's last known token (i = 0) or after
    /// draft i - 1; each is sampled with the history the request would have there (the drafts
    /// before it appended), so penalties and min-tokens see what plain decoding sees.
    /// - Greedy: draft i is kept while it equals row i's argmax; the first argmax that differs
    ///   (or row `drafts.count`'s when all are kept) ends the result, exactly plain decoding's
    ///   tokens.
    /// - Temperature > 0: rejection sampling for a draft that is a single token (n-gram, or a
    ///   draft model sampled greedily): draft i is kept with probability p(draft), p being
    ///   row i's distribution after the filters (top-k, top-p, min-p); a rejected draft is
    ///   replaced by a draw from p without it, renormalised. Each emitted token is then
    ///   distributed as p, so the output keeps the target distribution. The draws come from
    ///   the request's seed and output index, so a seed repeats its output.
    /// - Returns: the kept drafts and one more token, 1 ... drafts.count + 1 tokens.
    mutating func verify(drafts: [Int32], rows: (Int) -> UnsafeBufferPointer<Float>, params: SamplingParams,
                         history: History, seed: UInt64) -> [Int32] {
        var tokens: [Int32] = []
        var extended = history
        let outputs = Array(history.outputTokenIDs)
        for (index, draft) in drafts.enumerated() {
            extended.outputTokenIDs = (outputs + tokens)[...]
            let token = verifyOne(draft: draft, logits: rows(index), params: params, history: extended, seed: seed)
            tokens.append(token)
            if token != draft { return tokens }
        }
        extended.outputTokenIDs = (outputs + tokens)[...]
        tokens.append(sample(logits: rows(drafts.count), params: params, history: extended, seed: seed))
        return tokens
    }

    /// The token at one draft's position: the draft if kept, else a replacement.
    private mutating func verifyOne(draft: Int32, logits: UnsafeBufferPointer<Float>, params: SamplingParams,
                                    history: History, seed: UInt64) -> Int32 {
        prepare(logits: logits, params: params, history: history)
        if params.temperature == 0 { return argmax() }
        let candidates = candidatesAfterFilters(params: params)
        var generator = Self.generator(seed: seed, outputIndex: history.outputTokenIDs.count)
        let acceptDraw = Float(generator.nextUnit())
        let replaceDraw = Float(generator.nextUnit())
        return weights.withUnsafeBufferPointer { w in
            var total: Float = 0
            var draftWeight: Float = 0
            for rank in 0..<candidates {
                total += w[rank]
                if order[rank] == draft { draftWeight = w[rank] }
            }
            if acceptDraw * total < draftWeight { return draft }
            // Rejected: draw from the rest (the residual max(p - q, 0) of a one-hot draft q).
            var target = replaceDraw * (total - draftWeight)
            var last = -1
            for rank in 0..<candidates where order[rank] != draft && w[rank] > 0 {
                last = rank
                target -= w[rank]
                if target < 0 { return order[rank] }
            }
            // Rounding left the draw past the end: the last token with weight.
            return last >= 0 ? order[last] : draft
        }
    }
}
