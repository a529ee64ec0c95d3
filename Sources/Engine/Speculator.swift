import EngineCore
import SpeculativeDecoding

/// Speculative decoding in the engine: before each step, drafts for the requests that decode
/// (n-gram prompt lookup), as long as the `SpeculationPolicy` finds they pay; after it, the
/// acceptance and the step's cost go back to the policy and the stats.
///
/// Requests that ask for logprobs or follow a grammar get no drafts (their rows need the whole
/// distribution or a mask per position); everything else — greedy or sampled, with penalties
/// or not — is verified by `Sampler.verify`, which keeps plain decoding's tokens (greedy) or
/// its distribution (sampled).
final class Speculator {
    let config: SpeculativeConfig
    let proposer: NgramProposer
    let policy: SpeculationPolicy
    /// Most logits rows a step may have (each draft adds one).
    let maxLogitsRows: Int
    private(set) var stats = SpeculativeStats()

    init(config: SpeculativeConfig, maxLogitsRows: Int) throws {
        guard config.method == .ngram else {
            throw EngineError("speculative config: method \(config.method.rawValue) is not available here; use ngram")
        }
        self.config = config
        proposer = NgramProposer(minN: config.promptLookupMin, maxN: config.promptLookupMax)
        policy = SpeculationPolicy(maxDraftTokens: config.numSpeculativeTokens, adaptive: config.adaptive)
        self.maxLogitsRows = maxLogitsRows
    }

    /// Sets the drafts of the running requests for the next `schedule()`.
    /// - Parameter eligible: whether a request may have drafts at all.
    func propose(_ scheduler: Scheduler, eligible: (Request) -> Bool) {
        let started = ContinuousClock.now
        defer { stats.draftSeconds += (ContinuousClock.now - started).seconds }
        let running = scheduler.runningRequests
        if let limit = config.disableByBatchSize, running.count > limit { return }
        let candidates = running.filter { $0.isDecoding && eligible($0) }
        guard !candidates.isEmpty else { return }
        let lengths = policy.draftLengths(for: candidates.map(\.requestID), baseTokens: running.count)
        var rowsLeft = maxLogitsRows - running.count
        for (request, length) in zip(candidates, lengths) {
            let count = min(length, rowsLeft)
            guard count > 0 else {
                policy.recordIdle(request.requestID)
                continue
            }
            let drafts = proposer.propose(after: request.allTokenIDs, count: count)
            rowsLeft -= scheduler.setDraftTokens(request.requestID, drafts)
        }
    }

    /// Takes a step's outcome: acceptance per request and the forward pass's time.
    func record(_ output: SchedulerOutput, sampled: [String: [Int32]], seconds: Double) {
        policy.recordStep(tokens: output.numScheduledTokens, seconds: seconds)
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
    }
}
