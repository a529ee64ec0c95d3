import EngineCore
import Models

/// What one engine step produced.
public struct StepResult {
    /// New tokens and finish reasons of the requests the step touched.
    public var updates: [RequestUpdate] = []
    public var logprobs: [String: TokenLogprob] = [:]
    public var promptLogprobs: [String: (firstPosition: Int, entries: [TokenLogprob])] = [:]
    /// Every request the step ran, in batch order.
    public var scheduledRequestIDs: [String] = []
}

/// The synchronous engine: requests in, one `step()` at a time — schedule, execute,
/// update — and per-request token updates out. The `AsyncEngine` loop thread and the
/// offline `LLM` drive this; it never blocks on anything but the model.
public final class LLMEngine {
    public let scheduler: Scheduler
    public let runner: ModelRunner
    private var seeds: [String: UInt64] = [:]
    private var entropy = SystemRandomNumberGenerator()

    public init(model: any ModelExecutor, schedulerConfig: SchedulerConfig) throws {
        scheduler = try Scheduler(config: schedulerConfig)
        runner = ModelRunner(model: model)
    }

    public var hasUnfinishedRequests: Bool { scheduler.hasUnfinishedRequests }

    /// Queues a request; throws (naming the problem) if it can never run.
    public func add(_ request: Request) throws {
        try scheduler.add(request)
        seeds[request.requestID] = request.samplingParams.seed ?? entropy.next()
    }

    /// Aborts requests; their blocks are freed at once.
    public func abort(_ requestIDs: [String]) -> [RequestUpdate] {
        let updates = scheduler.abort(requestIDs)
        for update in updates { seeds[update.requestID] = nil }
        return updates
    }

    /// Ends a request for a reason found outside the scheduler (a stop string).
    public func finish(_ requestID: String, reason: FinishReason) -> RequestUpdate? {
        seeds[requestID] = nil
        return scheduler.finish(requestID, reason: reason)
    }

    /// One engine step.
    public func step() throws -> StepResult {
        let output = scheduler.schedule()
        let run = try runner.execute(output, request: scheduler.request(_:), seed: { self.seeds[$0] ?? 0 })
        let updates = try scheduler.update(output, sampled: run.sampled)
        for update in updates where update.isFinished { seeds[update.requestID] = nil }
        return StepResult(updates: updates, logprobs: run.logprobs, promptLogprobs: run.promptLogprobs,
                          scheduledRequestIDs: output.requests.map(\.requestID))
    }
}
