import Testing

@testable import EngineCore

/// Drives a scheduler with a `PagedTokenRunner`, checking the step contract on every step:
/// token budget, maxNumSeqs, block tables covering each context, positions, and the context
/// read back through the paged cache equal to the request's tokens.
final class SchedulerHarness {
    let scheduler: Scheduler
    let runner: PagedTokenRunner
    /// Tokens each request generated, from the updates.
    private(set) var outputs: [String: [Int32]] = [:]
    private(set) var finishReasons: [String: FinishReason] = [:]
    private(set) var steps: [SchedulerOutput] = []
    private(set) var allPreempted: [String] = []
    /// Called before each `schedule()`, to set draft tokens (speculative decoding).
    var proposer: ((Scheduler) -> Void)?

    init(config: SchedulerConfig, model: @escaping ([Int32]) -> Int32 = FakeModel.hashing) throws {
        scheduler = try Scheduler(config: config)
        runner = PagedTokenRunner(blockSize: config.blockSize, numBlocks: config.numBlocks, model: model)
    }

    var config: SchedulerConfig { scheduler.config }

    @discardableResult
    func add(
        _ id: String, prompt: [Int32], params: SamplingParams = .greedy(maxTokens: 8),
        eos: Set<Int32> = [FakeModel.eos], priority: Int = 0
    ) throws -> Request {
        let request = Request(
            requestID: id, promptTokenIDs: prompt, samplingParams: params, eosTokenIDs: eos, priority: priority)
        try scheduler.add(request)
        return request
    }

    /// One schedule / execute / update round.
    @discardableResult
    func step() throws -> SchedulerOutput {
        proposer?(scheduler)
        let output = scheduler.schedule()
        check(output)
        let sampled = runner.execute(output)
        for item in output.requests {
            guard let request = scheduler.request(item.requestID) else { continue }
            let expected = Array(request.allTokenIDs[0 ..< item.seqLen - item.draftTokenIDs.count]) + item.draftTokenIDs
            #expect(runner.lastContexts[item.requestID] == expected, "context of \(item.requestID) read back wrong")
        }
        let updates = try scheduler.update(output, sampled: sampled)
        record(updates)
        steps.append(output)
        allPreempted += output.preemptedRequestIDs
        return output
    }

    /// Steps until no request is left; fails the test after `maxSteps`.
    func runToCompletion(maxSteps: Int = 10_000) throws {
        var count = 0
        while scheduler.hasUnfinishedRequests {
            try step()
            count += 1
            guard count < maxSteps else {
                Issue.record("requests still unfinished after \(maxSteps) steps")
                return
            }
        }
    }

    func record(_ updates: [RequestUpdate]) {
        for update in updates {
            outputs[update.requestID, default: []] += update.newTokenIDs
            if let reason = update.finishReason {
                #expect(finishReasons[update.requestID] == nil, "\(update.requestID) finished twice")
                finishReasons[update.requestID] = reason
            }
        }
    }

    private func check(_ output: SchedulerOutput) {
        #expect(output.numScheduledTokens <= config.maxNumBatchedTokens)
        #expect(output.requests.count <= config.maxNumSeqs)
        #expect(scheduler.numRunning <= config.maxNumSeqs)
        #expect(Set(output.requests.map(\.requestID)).count == output.requests.count)
        var offset = 0
        for item in output.requests {
            #expect(item.tokenOffset == offset)
            #expect(item.numScheduledTokens > 0)
            offset += item.numScheduledTokens
            #expect(item.blockTable.count * config.blockSize >= item.seqLen)
            #expect(!item.blockTable.contains(0), "the null block was handed out")
            if let request = scheduler.request(item.requestID) {
                #expect(item.startPosition == request.numComputedTokens)
                let numKnown = item.seqLen - item.draftTokenIDs.count
                #expect(item.samples == (numKnown == request.numTokens))
                #expect(item.draftTokenIDs.isEmpty || item.startPosition == request.numTokens - 1)
                #expect(Array(output.tokenIDs(of: item))
                            == Array(request.allTokenIDs[item.startPosition ..< numKnown]) + item.draftTokenIDs)
            }
        }
        #expect(offset == output.numScheduledTokens)
    }
}
