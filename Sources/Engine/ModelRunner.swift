import EngineCore
import Models

/// Executes a scheduler step on a model: lays the scheduled requests out as the flattened
/// batch of DESIGN.md, runs the model and samples one token for each request that samples.
public final class ModelRunner {
    public let model: any ModelExecutor
    private var batch = ForwardBatch()
    private var sampler = Sampler()

    public init(model: any ModelExecutor) {
        self.model = model
    }

    /// Runs `output` and returns the sampled token of every request whose `samples` is set.
    /// `request(id)` gives each request's history (for penalties) and `seed(id)` its seed.
    public func execute(_ output: SchedulerOutput, request: (String) -> Request?,
                        seed: (String) -> UInt64) throws -> [String: [Int32]] {
        guard !output.isEmpty else { return [:] }
        let maxBlocks = output.requests.lazy.map(\.blockTable.count).max() ?? 0
        batch.reset(maxBlocksPerSequence: maxBlocks)
        for scheduled in output.requests {
            batch.append(tokens: output.tokenIDs(of: scheduled), start: scheduled.startPosition,
                         blocks: scheduled.blockTable, blockSize: model.blockSize, wantsLogits: scheduled.samples)
        }
        let logits = try model.execute(batch)
        let vocabulary = model.config.vocabularySize
        var sampled: [String: [Int32]] = [:]
        var row = 0
        for scheduled in output.requests where scheduled.samples {
            let rowLogits = UnsafeBufferPointer(rebasing: logits[row * vocabulary ..< (row + 1) * vocabulary])
            row += 1
            guard let state = request(scheduled.requestID) else { continue }
            let history = Sampler.History(promptTokenIDs: state.promptTokenIDs[...],
                                          outputTokenIDs: state.outputTokenIDs[...],
                                          eosTokenIDs: state.eosTokenIDs)
            let token = sampler.sample(logits: rowLogits, params: scheduled.samplingParams, history: history,
                                       seed: seed(scheduled.requestID))
            sampled[scheduled.requestID] = [token]
        }
        return sampled
    }
}
