import EngineCore
import Models
import StructuredOutputs

/// What one step produced besides the scheduler's update.
public struct RunnerOutput {
    /// The sampled token of every request that samples this step.
    public var sampled: [String: [Int32]] = [:]
    /// The sampled token's logprob and top alternatives, for requests that asked.
    public var logprobs: [String: TokenLogprob] = [:]
    /// Prompt logprobs computed this step, keyed by request: the first prompt position of
    /// the batch chunk and one entry per following prompt token.
    public var promptLogprobs: [String: (firstPosition: Int, entries: [TokenLogprob])] = [:]
}

/// Executes a scheduler step on a model: lays the scheduled requests out as the flattened
/// batch of DESIGN.md, runs the model and samples one token for each request that samples.
public final class ModelRunner {
    public let model: any ModelExecutor
    private var batch = ForwardBatch()
    private var sampler = Sampler()
    /// For each scheduled request, where its logit rows start (or nil) and how many it has.
    private var rowRanges: [(start: Int, count: Int)] = []
    /// [mask words] scratch for one constrained row's allowed-token bitmask.
    private var maskWords: [UInt32] = []
    /// Time spent filling and applying structured-output masks, and the tokens it was for
    /// (`tern bench throughput --structured` reports the time per token).
    public internal(set) var maskTime: Duration = .zero
    public internal(set) var maskedTokens = 0

    public init(model: any ModelExecutor) {
        self.model = model
    }

    /// Runs `output`. `request(id)` gives each request's history (for penalties and prompt
    /// logprobs), `seed(id)` its seed and `constraint(id)` its structured-output matcher, whose
    /// mask limits what the request may sample (the caller advances the matcher).
    public func execute(_ output: SchedulerOutput, request: (String) -> Request?, seed: (String) -> UInt64,
                        constraint: (String) -> GrammarMatcher? = { _ in nil }) throws -> RunnerOutput {
        guard !output.isEmpty else { return RunnerOutput() }
        let maxBlocks = output.requests.lazy.map(\.blockTable.count).max() ?? 0
        batch.reset(maxBlocksPerSequence: maxBlocks)
        rowRanges.removeAll(keepingCapacity: true)
        for scheduled in output.requests {
            let firstRow = batch.logitsIndices.count
            batch.append(tokens: output.tokenIDs(of: scheduled), start: scheduled.startPosition,
                         blocks: scheduled.blockTable, blockSize: model.blockSize, wantsLogits: false)
            let flatStart = Int32(scheduled.tokenOffset)
            if wantsPromptLogprobs(scheduled, request: request) {
                // Every row of the chunk: row p predicts the token at p + 1.
                batch.logitsIndices.append(contentsOf: flatStart ..< flatStart + Int32(scheduled.numScheduledTokens))
            } else if scheduled.samples {
                // The last known token and each draft: draft i is checked against row i.
                let rows = Int32(scheduled.draftTokenIDs.count + 1)
                let end = flatStart + Int32(scheduled.numScheduledTokens)
                batch.logitsIndices.append(contentsOf: end - rows ..< end)
            }
            rowRanges.append((firstRow, batch.logitsIndices.count - firstRow))
        }
        // A GPU model samples on the device unless a row needs logprobs, so only the sampled
        // ids come back, not [B', vocab] logits; structured-output masks go to the device too.
        if let deviceModel = model as? any DeviceSampling,
           let sampling = deviceSamplingRows(output, request: request, seed: seed) {
            return try executeWithDeviceSampling(deviceModel, batch: batch, output: output, rows: sampling.rows,
                                                 adjustments: sampling.adjustments, constraint: constraint)
        }
        let logits = try model.execute(batch)
        let vocabulary = model.config.vocabularySize
        func row(_ index: Int) -> UnsafeBufferPointer<Float> {
            UnsafeBufferPointer(rebasing: logits[index * vocabulary ..< (index + 1) * vocabulary])
        }

        var result = RunnerOutput()
        for (scheduled, rows) in zip(output.requests, rowRanges) where rows.count > 0 {
            guard let state = request(scheduled.requestID) else { continue }
            let params = scheduled.samplingParams
            if wantsPromptLogprobs(scheduled, request: request) {
                result.promptLogprobs[scheduled.requestID] = promptLogprobs(
                    scheduled, state: state, rows: rows, row: row)
            }
            guard scheduled.samples else { continue }
            let lastRow = row(rows.start + rows.count - 1)
            let history = Sampler.History(promptTokenIDs: state.promptTokenIDs[...],
                                          outputTokenIDs: state.outputTokenIDs[...],
                                          eosTokenIDs: state.eosTokenIDs)
            if !scheduled.draftTokenIDs.isEmpty {
                // The engine gives drafts only to requests without logprobs or a grammar.
                result.sampled[scheduled.requestID] = sampler.verify(
                    drafts: scheduled.draftTokenIDs, rows: { row(rows.start + $0) }, params: params,
                    history: history, seed: seed(scheduled.requestID))
                continue
            }
            let token: Int32
            if let matcher = constraint(scheduled.requestID) {
                let started = ContinuousClock.now
                let words = (vocabulary + 31) / 32
                if maskWords.count != words { maskWords = [UInt32](repeating: 0, count: words) }
                maskWords.withUnsafeMutableBufferPointer { matcher.fillNextTokenBitmask($0) }
                maskTime += ContinuousClock.now - started
                maskedTokens += 1
                token = maskWords.withUnsafeBufferPointer { mask in
                    sampler.sample(logits: lastRow, params: params, history: history,
                                   seed: seed(scheduled.requestID), allowed: mask)
                }
            } else {
                token = sampler.sample(logits: lastRow, params: params, history: history, seed: seed(scheduled.requestID))
            }
            result.sampled[scheduled.requestID] = [token]
            if let count = params.logprobs {
                result.logprobs[scheduled.requestID] = Logprobs.of(token: token, in: lastRow, top: count)
            }
        }
        return result
    }

    private func wantsPromptLogprobs(_ scheduled: SchedulerOutput.ScheduledRequest,
                                     request: (String) -> Request?) -> Bool {
        guard scheduled.samplingParams.promptLogprobs != nil, let state = request(scheduled.requestID) else { return false }
        return scheduled.startPosition < state.numPromptTokens - 1
    }

    /// Logprobs of the prompt tokens this chunk's rows predict (positions start+1 ... within
    /// the prompt).
    private func promptLogprobs(_ scheduled: SchedulerOutput.ScheduledRequest, state: Request,
                                rows: (start: Int, count: Int),
                                row: (Int) -> UnsafeBufferPointer<Float>) -> (firstPosition: Int, entries: [TokenLogprob]) {
        let top = scheduled.samplingParams.promptLogprobs ?? 0
        var entries: [TokenLogprob] = []
        for offset in 0..<rows.count {
            let target = scheduled.startPosition + offset + 1
            guard target < state.numPromptTokens else { break }
            entries.append(Logprobs.of(token: state.promptTokenIDs[target], in: row(rows.start + offset), top: top))
        }
        return (scheduled.startPosition + 1, entries)
    }
}
