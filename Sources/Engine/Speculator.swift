import EngineCore
import Models
import SpeculativeDecoding

/// Speculative decoding in the engine: before each step, drafts for the requests that decode
/// (n-gram prompt lookup, or a draft model), as long as the `SpeculationPolicy` finds they pay;
/// after it, the acceptance and the step's cost (drafting included) go back to the policy and
/// the stats.
///
/// Requests that ask for logprobs or follow a grammar get no drafts (their rows need the whole
/// distribution or a mask per position); everything else — greedy or sampled, with penalties
/// or not — is verified by `Sampler.verify`, which keeps plain decoding's tokens (greedy) or
/// its distribution (sampled).
final class Speculator {
    let config: SpeculativeConfig
    let proposer: Proposer
    let policy: SpeculationPolicy
    /// Most logits rows a step may have (each draft adds one).
    let maxLogitsRows: Int
    private(set) var stats = SpeculativeStats()
    /// Seconds spent drafting for the coming step, counted into its cost.
    private var pendingDraftSeconds = 0.0

    enum Proposer {
        case ngram(NgramProposer)
        case model(DraftModelProposer)
    }

    /// - Parameters:
    ///   - draftModel: the draft model (method draft_model), with the target's vocabulary.
    ///   - draftBatchTokens: most tokens one forward pass of the draft model may feed.
    init(config: SpeculativeConfig, target: any ModelExecutor, draftModel: (any ModelExecutor)?,
         draftBatchTokens: Int) throws {
        switch config.method {
        case .ngram:
            proposer = .ngram(NgramProposer(minN: config.promptLookupMin, maxN: config.promptLookupMax))
        case .draftModel:
            guard let draftModel else {
                throw EngineError("speculative config: method draft_model needs the draft model loaded")
            }
            guard draftModel.config.vocabularySize == target.config.vocabularySize else {
                throw EngineError("speculative config: the draft model's vocabulary (\(draftModel.config.vocabularySize) tokens) "
                                  + "differs from the target's (\(target.config.vocabularySize)); a draft must share the tokenizer")
            }
            proposer = .model(DraftModelProposer(model: draftModel, maxBatchTokens: draftBatchTokens))
        }
        self.config = config
        policy = SpeculationPolicy(maxDraftTokens: config.numSpeculativeTokens, adaptive: config.adaptive)
        maxLogitsRows = target.maxLogitsRows
    }

    /// Sets the drafts of the running requests for the next `schedule()`.
    /// - Parameter eligible: whether a request may have drafts at all.
    func propose(_ scheduler: Scheduler, eligible: (Request) -> Bool) throws {
        let started = ContinuousClock.now
        defer {
            pendingDraftSeconds = (ContinuousClock.now - started).seconds
            stats.draftSeconds += pendingDraftSeconds
        }
        let running = scheduler.runningRequests
        if let limit = config.disableByBatchSize, running.count > limit { return }
        let candidates = running.filter { $0.isDecoding && eligible($0) }
        guard !candidates.isEmpty else { return }
        let lengths = policy.draftLengths(for: candidates.map(\.requestID), baseTokens: running.count)
        var rowsLeft = maxLogitsRows - running.count
        var wanted: [(request: Request, count: Int)] = []
        for (request, length) in zip(candidates, lengths) {
            let count = min(length, rowsLeft)
            guard count > 0 else {
                policy.recordIdle(request.requestID)
                continue
            }
            wanted.append((request, count))
            rowsLeft -= count
        }
        switch proposer {
        case .ngram(let ngram):
            for (request, count) in wanted {
                scheduler.setDraftTokens(request.requestID, ngram.propose(after: request.allTokenIDs, count: count))
            }
        case .model(let model):
            for (id, drafts) in try model.propose(wanted) { scheduler.setDraftTokens(id, drafts) }
        }
    }

    /// Takes a step's outcome: acceptance per request and the forward pass's time.
    func record(_ output: SchedulerOutput, sampled: [String: [Int32]], seconds: Double) {
        policy.recordStep(tokens: output.numScheduledTokens, seconds: seconds + pendingDraftSeconds)
        var verified = false
        for item in output.requests where !item.draftTokenIDs.isEmpty {
            guard let tokens = sampled[item.requestID] else { continue }
            let accepted = tokens.count - 1
            policy.recordVerification(item.requestID, drafted: item.draftTokenIDs.count, accepted: accepted)
            stats.record(drafted: item.draftTokenIDs.count, accepted: accepted)
            verified = true
        }
        if verified { stats.verifySeconds += seconds }
    }

    func forget(_ requestID: String) {
        policy.forget(requestID)
        if case .model(let model) = proposer { model.forget(requestID) }
    }
}
