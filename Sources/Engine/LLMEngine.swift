import EngineCore
import Models

/// The synchronous engine: requests in, one `step()` at a time — schedule, execute,
/// update — and per-request token updates out. The threaded `EngineCore` loop and the
/// offline API drive this; it never blocks on anything but the model.
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

    /// Queues a request; throws (naming the field) if it can never run.
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

    /// One engine step. Returns the new tokens and finish reasons of the requests it touched.
    public func step() throws -> [RequestUpdate] {
        let output = scheduler.schedule()
        let sampled = try runner.execute(output, request: scheduler.request(_:), seed: { self.seeds[$0] ?? 0 })
        let updates = try scheduler.update(output, sampled: sampled)
        for update in updates where update.isFinished { seeds[update.requestID] = nil }
        return updates
    }
}
