import EngineCore
import Models
import SpeculativeDecoding
import StructuredOutputs

/// What one engine step produced.
public struct StepResult {
    /// New tokens and finish reasons of the requests the step touched.
    public var updates: [RequestUpdate] = []
    public var logprobs: [String: TokenLogprob] = [:]
    public var promptLogprobs: [String: (firstPosition: Int, entries: [TokenLogprob])] = [:]
    /// Every request the step ran, in batch order.
    public var scheduledRequestIDs: [String] = []
    /// Tokens the step fed the model (prompt chunks and decodes).
    public var scheduledTokens = 0
    /// Requests preempted to make room for this step.
    public var preemptions = 0
}

/// The synchronous engine: requests in, one `step()` at a time — schedule, execute,
/// update — and per-request token updates out. The `AsyncEngine` loop thread and the
/// offline `LLM` drive this; it never blocks on anything but the model.
public final class LLMEngine {
    public let scheduler: Scheduler
    public let runner: ModelRunner
    private var seeds: [String: UInt64] = [:]
    /// The structured-output state of each constrained request, advanced by every token it samples.
    private var matchers: [String: GrammarMatcher] = [:]
    private var entropy = SystemRandomNumberGenerator()
    /// Drafts tokens for decoding requests when speculative decoding is on.
    private let speculator: Speculator?

    /// - Parameters:
    ///   - speculative: speculative decoding's settings; nil turns it off.
    ///   - draftModel: the draft model of `speculative`'s draft_model method.
    public init(model: any ModelExecutor, schedulerConfig: SchedulerConfig,
                speculative: SpeculativeConfig? = nil, draftModel: (any ModelExecutor)? = nil) throws {
        scheduler = try Scheduler(config: schedulerConfig)
        runner = ModelRunner(model: model)
        speculator = try speculative.map {
            try Speculator(config: $0, target: model, draftModel: draftModel,
                           draftBatchTokens: schedulerConfig.maxNumBatchedTokens)
        }
    }

    /// Speculative decoding's counters since the start; nil when it is off.
    public var speculativeStats: SpeculativeStats? { speculator?.stats }

    public var hasUnfinishedRequests: Bool { scheduler.hasUnfinishedRequests }

    /// Queues a request; throws (naming the problem) if it can never run. With `grammar`, every
    /// token it samples is one the grammar allows, and EOS only where the grammar may end.
    public func add(_ request: Request, grammar: CompiledGrammar? = nil) throws {
        try scheduler.add(request)
        seeds[request.requestID] = request.samplingParams.seed ?? entropy.next()
        if let grammar { matchers[request.requestID] = GrammarMatcher(grammar) }
    }

    private func forget(_ requestID: String) {
        seeds[requestID] = nil
        matchers[requestID] = nil
        speculator?.forget(requestID)
    }

    /// Aborts requests; their blocks are freed at once.
    public func abort(_ requestIDs: [String]) -> [RequestUpdate] {
        let updates = scheduler.abort(requestIDs)
        for update in updates { forget(update.requestID) }
        return updates
    }

    /// Ends a request for a reason found outside the scheduler (a stop string).
    public func finish(_ requestID: String, reason: FinishReason) -> RequestUpdate? {
        forget(requestID)
        return scheduler.finish(requestID, reason: reason)
    }

    /// One engine step.
    public func step() throws -> StepResult {
        try speculator?.propose(scheduler) { request in
            request.samplingParams.logprobs == nil && request.samplingParams.promptLogprobs == nil
                && matchers[request.requestID] == nil
        }
        let output = scheduler.schedule()
        let started = ContinuousClock.now
        let run = try runner.execute(output, request: scheduler.request(_:), seed: { self.seeds[$0] ?? 0 },
                                     constraint: { self.matchers[$0] })
        speculator?.record(output, sampled: run.sampled, seconds: (ContinuousClock.now - started).seconds)
        for (requestID, tokens) in run.sampled {
            guard let matcher = matchers[requestID] else { continue }
            for token in tokens { matcher.acceptToken(token) }
        }
        var updates = try scheduler.update(output, sampled: run.sampled)
        // A grammar that has taken its EOS ends the request even before min_tokens (which held
        // the EOS back in vain: the grammar allowed nothing else).
        for (index, update) in updates.enumerated() where !update.isFinished {
            guard matchers[update.requestID]?.isTerminated == true,
                  let finished = scheduler.finish(update.requestID, reason: .stop) else { continue }
            updates[index] = RequestUpdate(requestID: update.requestID, newTokenIDs: update.newTokenIDs,
                                           finishReason: finished.finishReason,
                                           numCachedTokens: finished.numCachedTokens)
        }
        for update in updates where update.isFinished { forget(update.requestID) }
        return StepResult(updates: updates, logprobs: run.logprobs, promptLogprobs: run.promptLogprobs,
                          scheduledRequestIDs: output.requests.map(\.requestID),
                          scheduledTokens: output.requests.reduce(0) { $0 + $1.numScheduledTokens },
                          preemptions: output.preemptedRequestIDs.count)
    }
}
