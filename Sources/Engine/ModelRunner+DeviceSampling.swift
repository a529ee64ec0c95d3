import EngineCore
import Models
import StructuredOutputs

extension ModelRunner {
    /// How the step's logits rows are sampled on the device, or nil when some row needs the
    /// host sampler (prompt logprobs or logprobs, which need the whole logits row, and drafts
    /// verified by sampling or under logit processors, which need the distribution). Rows follow
    /// `output.requests` that sample. Logit bias, min-tokens masking and the penalties become
    /// `adjustments`, built from each request's history as the host sampler's processors
    /// apply them. The key mixes the request's seed with its step as the host sampler does,
    /// so a seed repeats its draws.
    func deviceSamplingRows(_ output: SchedulerOutput, request: (String) -> Request?,
                            seed: (String) -> UInt64) -> (rows: [DeviceSamplingRow], adjustments: [LogitAdjustment])? {
        var rows: [DeviceSamplingRow] = []
        var adjustments: [LogitAdjustment] = []
        let vocabulary = model.config.vocabularySize
        for scheduled in output.requests {
            let p = scheduled.samplingParams
            guard p.promptLogprobs == nil else { return nil }
            guard scheduled.samples else { continue }
            // allowed_token_ids would mask most of the vocabulary: the host sampler does it.
            guard let state = request(scheduled.requestID), p.logprobs == nil, p.allowedTokenIDs == nil else { return nil }
            if !scheduled.draftTokenIDs.isEmpty {
                // Greedy drafts need only each row's argmax; anything else is verified on the host.
                guard p.temperature == 0, !Self.hasProcessors(p, outputCount: state.outputTokenIDs.count) else { return nil }
                for _ in 0 ... scheduled.draftTokenIDs.count { rows.append(DeviceSamplingRow(temperature: 0, key: 0)) }
                continue
            }
            let key = Sampler.streamKey(seed: seed(scheduled.requestID), outputIndex: state.outputTokenIDs.count)
            let topK = p.topK > 0 && p.topK < vocabulary ? Int32(p.topK) : 0
            rows.append(DeviceSamplingRow(temperature: p.temperature, key: key, topK: topK, topP: p.topP, minP: p.minP))
            Self.appendAdjustments(&adjustments, row: Int32(rows.count - 1), params: p, state: state,
                                   vocabulary: vocabulary)
        }
        return (rows, adjustments)
    }

    /// Whether a row of a request with `outputCount` tokens so far has a logit processor to
    /// apply (bias, min-tokens masking, a penalty, bad words), now or at a later position.
    static func hasProcessors(_ p: SamplingParams, outputCount: Int) -> Bool {
        !p.logitBias.isEmpty || outputCount < p.minTokens || p.repetitionPenalty != 1
            || p.presencePenalty != 0 || p.frequencyPenalty != 0 || !p.badWordsTokenIDs.isEmpty
    }

    /// The host sampler's processors for one row as per-token adjustments, one per token.
    static func appendAdjustments(_ adjustments: inout [LogitAdjustment], row: Int32, params p: SamplingParams,
                                  state: Request, vocabulary: Int) {
        // Most rows have no processor: no per-step work for them.
        guard hasProcessors(p, outputCount: state.outputTokenIDs.count) else { return }
        var byToken: [Int32: LogitAdjustment] = [:]
        func touch(_ token: Int32, _ change: (inout LogitAdjustment) -> Void) {
            guard token >= 0, Int(token) < vocabulary else { return }
            change(&byToken[token, default: LogitAdjustment(row: row, token: token)])
        }
        for token in p.badWordBans(after: state.outputTokenIDs[...]) { touch(token) { $0.masked = true } }
        for (token, bias) in p.logitBias { touch(token) { $0.bias += bias } }
        if state.outputTokenIDs.count < p.minTokens {
            for token in state.eosTokenIDs.union(p.stopTokenIDs) { touch(token) { $0.masked = true } }
        }
        if p.repetitionPenalty != 1 {
            for token in Set(state.promptTokenIDs).union(state.outputTokenIDs) {
                touch(token) { $0.repetition = p.repetitionPenalty }
            }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            var counts: [Int32: Int] = [:]
            for token in state.outputTokenIDs { counts[token, default: 0] += 1 }
            for (token, count) in counts {
                touch(token) { $0.subtract += p.frequencyPenalty * Float(count) + p.presencePenalty }
            }
        }
        adjustments.append(contentsOf: byToken.values.sorted { $0.token < $1.token })
    }

    /// Runs the batch with sampling on the device, one id per sampling request. Rows whose
    /// request has a structured-output matcher are masked on the device; their masks are
    /// filled while the device runs the forward pass.
    func executeWithDeviceSampling(_ model: any DeviceSampling, batch: ForwardBatch, output: SchedulerOutput,
                                   rows: [DeviceSamplingRow], adjustments: [LogitAdjustment],
                                   constraint: (String) -> GrammarMatcher?) throws -> RunnerOutput {
        var matchers: [GrammarMatcher] = []
        var maskedRows: [Int32] = []
        var row: Int32 = 0
        for scheduled in output.requests where scheduled.samples {
            if let matcher = constraint(scheduled.requestID) {
                matchers.append(matcher)
                maskedRows.append(row)
            }
            row += Int32(scheduled.draftTokenIDs.count + 1)
        }
        let ids: UnsafeBufferPointer<Int32>
        if matchers.isEmpty {
            ids = try model.executeSampling(batch, rows: rows, adjustments: adjustments)
        } else {
            let vocabulary = model.config.vocabularySize
            ids = try model.executeSampling(batch, rows: rows, maskedRows: maskedRows) { masks in
                let started = ContinuousClock.now
                let words = (vocabulary + 31) / 32
                for (index, matcher) in matchers.enumerated() {
                    matcher.fillNextTokenBitmask(UnsafeMutableBufferPointer(rebasing: masks[index * words ..< (index + 1) * words]))
                }
                let kept = Self.adjustmentsUnderMasks(adjustments, maskedRows: maskedRows,
                                                      masks: UnsafeBufferPointer(masks), words: words)
                maskTime += ContinuousClock.now - started
                maskedTokens += matchers.count
                return kept
            }
        }
        var result = RunnerOutput()
        var index = 0
        for scheduled in output.requests where scheduled.samples {
            // Greedy verification: the argmax after each draft, up to the first that differs.
            var tokens = [ids[index]]
            for draft in scheduled.draftTokenIDs {
                guard tokens[tokens.count - 1] == draft else { break }
                tokens.append(ids[index + tokens.count])
            }
            result.sampled[scheduled.requestID] = tokens
            index += scheduled.draftTokenIDs.count + 1
        }
        return result
    }

    /// `adjustments` less those of a masked row where they would leave none of the mask's
    /// tokens (min_tokens forbidding the EOS the grammar now requires, or a -inf bias on every
    /// allowed token): there the grammar wins, and its tokens are sampled from the raw logits,
    /// as the host sampler does.
    static func adjustmentsUnderMasks(_ adjustments: [LogitAdjustment], maskedRows: [Int32],
                                      masks: UnsafeBufferPointer<UInt32>, words: Int) -> [LogitAdjustment] {
        guard !adjustments.isEmpty else { return adjustments }
        var forbidden: [Int32: Set<Int32>] = [:]
        for a in adjustments where a.masked || a.bias == -.infinity {
            forbidden[a.row, default: []].insert(a.token)
        }
        guard !forbidden.isEmpty else { return adjustments }
        var overruled: Set<Int32> = []
        for (index, row) in maskedRows.enumerated() {
            guard let tokens = forbidden[row] else { continue }
            let mask = UnsafeBufferPointer(rebasing: masks[index * words ..< (index + 1) * words])
            let allowed = mask.reduce(0) { $0 + $1.nonzeroBitCount }
            // Few tokens are forbidden: only a mask of at most that many can be emptied.
            guard allowed <= tokens.count else { continue }
            let left = (0..<words).contains { w in
                var word = mask[w]
                while word != 0 {
                    let token = Int32(w * 32 + word.trailingZeroBitCount)
                    if !tokens.contains(token) { return true }
                    word &= word - 1
                }
                return false
            }
            if !left { overruled.insert(row) }
        }
        return overruled.isEmpty ? adjustments : adjustments.filter { !overruled.contains($0.row) }
    }
}
