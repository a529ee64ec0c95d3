import EngineCore
import Models

extension ModelRunner {
    /// How the step's logits rows are sampled on the device, or nil when some row needs the
    /// host sampler (prompt logprobs or logprobs, which need the whole logits row). Rows follow
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
            guard let state = request(scheduled.requestID), p.logprobs == nil else { return nil }
            let key = seed(scheduled.requestID) &+ UInt64(state.outputTokenIDs.count) &* 0x9E37_79B9_7F4A_7C15
            let topK = p.topK > 0 && p.topK < vocabulary ? Int32(p.topK) : 0
            rows.append(DeviceSamplingRow(temperature: p.temperature, key: key, topK: topK, topP: p.topP, minP: p.minP))
            Self.appendAdjustments(&adjustments, row: Int32(rows.count - 1), params: p, state: state,
                                   vocabulary: vocabulary)
        }
        return (rows, adjustments)
    }

    /// The host sampler's processors for one row as per-token adjustments, one per token.
    static func appendAdjustments(_ adjustments: inout [LogitAdjustment], row: Int32, params p: SamplingParams,
                                  state: Request, vocabulary: Int) {
        // Most rows have no processor: no per-step work for them.
        guard !p.logitBias.isEmpty || state.outputTokenIDs.count < p.minTokens || p.repetitionPenalty != 1
              || p.presencePenalty != 0 || p.frequencyPenalty != 0 else { return }
        var byToken: [Int32: LogitAdjustment] = [:]
        func touch(_ token: Int32, _ change: (inout LogitAdjustment) -> Void) {
            guard token >= 0, Int(token) < vocabulary else { return }
            change(&byToken[token, default: LogitAdjustment(row: row, token: token)])
        }
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

    /// Runs the batch with sampling on the device, one id per sampling request.
    func executeWithDeviceSampling(_ model: any DeviceSampling, batch: ForwardBatch, output: SchedulerOutput,
                                   rows: [DeviceSamplingRow], adjustments: [LogitAdjustment]) throws -> RunnerOutput {
        let ids = try model.executeSampling(batch, rows: rows, adjustments: adjustments)
        var result = RunnerOutput()
        var index = 0
        for scheduled in output.requests where scheduled.samples {
            result.sampled[scheduled.requestID] = [ids[index]]
            index += 1
        }
        return result
    }
}
