import EngineCore
import Models

extension ModelRunner {
    /// How the step's logits rows are sampled on the device, or nil when some row needs the
    /// host sampler: prompt logprobs, logprobs, top-k/top-p/min-p, penalties, logit bias, or an
    /// EOS ban still in force (`minTokens`). Rows follow `output.requests` that sample.
    /// The key mixes the request's seed with its step as the host sampler does, so a seed
    /// repeats its draws.
    func deviceSamplingRows(_ output: SchedulerOutput, request: (String) -> Request?,
                            seed: (String) -> UInt64) -> [DeviceSamplingRow]? {
        var rows: [DeviceSamplingRow] = []
        for scheduled in output.requests {
            let p = scheduled.samplingParams
            guard p.promptLogprobs == nil else { return nil }
            guard scheduled.samples else { continue }
            guard let state = request(scheduled.requestID),
                  p.logprobs == nil, p.topK <= 0 || p.topK >= model.config.vocabularySize, p.topP >= 1, p.minP == 0,
                  p.repetitionPenalty == 1, p.presencePenalty == 0, p.frequencyPenalty == 0, p.logitBias.isEmpty,
                  state.outputTokenIDs.count >= p.minTokens else { return nil }
            let key = seed(scheduled.requestID) &+ UInt64(state.outputTokenIDs.count) &* 0x9E37_79B9_7F4A_7C15
            rows.append(DeviceSamplingRow(temperature: p.temperature, key: key))
        }
        return rows
    }

    /// Runs the batch with sampling on the device, one id per sampling request.
    func executeWithDeviceSampling(_ model: any DeviceSampling, batch: ForwardBatch, output: SchedulerOutput,
                                   rows: [DeviceSamplingRow]) throws -> RunnerOutput {
        let ids = try model.executeSampling(batch, rows: rows)
        var result = RunnerOutput()
        var index = 0
        for scheduled in output.requests where scheduled.samples {
            result.sampled[scheduled.requestID] = [ids[index]]
            index += 1
        }
        return result
    }
}
