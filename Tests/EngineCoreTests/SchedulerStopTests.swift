import Testing

@testable import EngineCore

/// Stop conditions that need no text, and the update contract.
struct SchedulerStopTests {
    private static let prompt: [Int32] = [11, 12, 13, 14, 15]

    /// Returns 7, except EOS (0) as the fourth generated token.
    private static func eosFourth(_ history: [Int32]) -> Int32 {
        history.count == prompt.count + 3 ? 0 : 7
    }

    private func run(
        _ params: SamplingParams, eos: Set<Int32> = [0], maxModelLen: Int = 64,
        model: @escaping ([Int32]) -> Int32 = eosFourth
    ) throws -> (tokens: [Int32], reason: FinishReason?) {
        let config = SchedulerConfig(maxModelLen: maxModelLen, blockSize: 4, numBlocks: 64)
        let harness = try SchedulerHarness(config: config, model: model)
        try harness.add("r", prompt: Self.prompt, params: params, eos: eos)
        try harness.runToCompletion()
        let reference = referenceGeneration(
            prompt: Self.prompt, params: params, eos: eos, maxModelLen: maxModelLen, model: model)
        #expect(harness.outputs["r"] == reference.tokens)
        #expect(harness.finishReasons["r"] == reference.reason)
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks == 63)
        return (harness.outputs["r"] ?? [], harness.finishReasons["r"])
    }

    @Test func eosStops() throws {
        let result = try run(.greedy(maxTokens: 10))
        #expect(result.tokens == [7, 7, 7, 0])
        #expect(result.reason == .stop)
    }

    @Test func anyOfSeveralEOSIdsStops() throws {
        let result = try run(.greedy(maxTokens: 10), eos: [0, 7])
        #expect(result.tokens == [7])
        #expect(result.reason == .stop)
    }

    @Test func ignoreEOSRunsToMaxTokens() throws {
        let result = try run(SamplingParams(temperature: 0, ignoreEOS: true, maxTokens: 6))
        #expect(result.tokens == [7, 7, 7, 0, 7, 7])
        #expect(result.reason == .length)
    }

    @Test func minTokensHoldsEOSBack() throws {
        let result = try run(SamplingParams(temperature: 0, maxTokens: 8, minTokens: 5))
        #expect(result.tokens == [7, 7, 7, 0, 7, 7, 7, 7])
        #expect(result.reason == .length)
    }

    @Test func stopTokenIDsStopAfterMinTokens() throws {
        let early = try run(SamplingParams(temperature: 0, stopTokenIDs: [7], maxTokens: 8))
        #expect(early.tokens == [7])
        #expect(early.reason == .stop)
        let later = try run(SamplingParams(temperature: 0, stopTokenIDs: [7], maxTokens: 8, minTokens: 2))
        #expect(later.tokens == [7, 7])
    }

    @Test func eosOnTheLastAllowedTokenIsAStop() throws {
        let result = try run(.greedy(maxTokens: 4))
        #expect(result.tokens == [7, 7, 7, 0])
        #expect(result.reason == .stop)
    }

    @Test func contextLengthCapsOpenEndedRequests() throws {
        let result = try run(.greedy(maxTokens: nil), maxModelLen: 12, model: { _ in 7 })
        #expect(result.tokens.count == 7)
        #expect(result.reason == .length)
    }

    @Test func tokensAfterAStopInOneUpdateAreDropped() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxModelLen: 64, blockSize: 4, numBlocks: 64))
        try scheduler.add(
            Request(requestID: "r", promptTokenIDs: Self.prompt, samplingParams: .greedy(maxTokens: 9), eosTokenIDs: [0]))
        let output = scheduler.schedule()
        let updates = try scheduler.update(output, sampled: ["r": [7, 0, 7]])
        #expect(updates == [RequestUpdate(requestID: "r", newTokenIDs: [7, 0], finishReason: .stop, numCachedTokens: 0)])
        #expect(scheduler.kvCacheManager.numFreeBlocks == 63)
    }

    @Test func missingSampleIsAnErrorAndChangesNothing() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxModelLen: 64, blockSize: 4, numBlocks: 64))
        let request = Request(requestID: "r", promptTokenIDs: Self.prompt, samplingParams: .greedy())
        try scheduler.add(request)
        let output = scheduler.schedule()
        let error = try #require(throws: SchedulerError.self) { try scheduler.update(output, sampled: [:]) }
        #expect(error == .missingSampledTokens(requestID: "r"))
        #expect(error.description == "no sampled token was given for request 'r', which sampled in this step")
        #expect(request.numComputedTokens == 0)
        #expect(try scheduler.update(output, sampled: ["r": [3]]).first?.newTokenIDs == [3])
    }

    @Test func applyingAnOutputTwiceIsAnError() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxModelLen: 64, blockSize: 4, numBlocks: 64))
        try scheduler.add(Request(requestID: "r", promptTokenIDs: Self.prompt, samplingParams: .greedy()))
        let output = scheduler.schedule()
        _ = try scheduler.update(output, sampled: ["r": [3]])
        let error = try #require(throws: SchedulerError.self) { try scheduler.update(output, sampled: ["r": [3]]) }
        #expect(error == .staleOutput(requestID: "r", expectedPosition: 5, outputPosition: 0))
        #expect(scheduler.request("r")?.outputTokenIDs == [3])
    }

    @Test func updateSkipsRequestsAbortedSinceSchedule() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxModelLen: 64, blockSize: 4, numBlocks: 64))
        try scheduler.add(Request(requestID: "r", promptTokenIDs: Self.prompt, samplingParams: .greedy()))
        let output = scheduler.schedule()
        scheduler.abort(["r"])
        #expect(try scheduler.update(output, sampled: [:]).isEmpty)
        #expect(!scheduler.hasUnfinishedRequests)
    }
}
