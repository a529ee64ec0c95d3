import Testing

@testable import EngineCore

struct SchedulerTests {
    private func config(
        maxNumSeqs: Int = 8, budget: Int = 64, maxModelLen: Int = 128, blockSize: Int = 4,
        numBlocks: Int = 256, prefixCaching: Bool = true, threshold: Int? = nil
    ) -> SchedulerConfig {
        SchedulerConfig(
            maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: budget, maxModelLen: maxModelLen,
            blockSize: blockSize, numBlocks: numBlocks, enablePrefixCaching: prefixCaching,
            longPrefillTokenThreshold: threshold)
    }

    private func prompt(_ seed: Int32, length: Int) -> [Int32] {
        (0 ..< Int32(length)).map { ($0 * 7 + seed * 13) % 60 + 1 }
    }

    @Test func budgetAndMaxNumSeqsAreHonoured() throws {
        let harness = try SchedulerHarness(config: config(maxNumSeqs: 4, budget: 64))
        var expected: [String: [Int32]] = [:]
        for i in 0 ..< 10 {
            let tokens = prompt(Int32(i), length: 30)
            let params = SamplingParams.greedy(maxTokens: 8)
            try harness.add("r\(i)", prompt: tokens, params: params)
            expected["r\(i)"] = referenceGeneration(
                prompt: tokens, params: params, eos: [FakeModel.eos], maxModelLen: 128
            ).tokens
        }
        try harness.runToCompletion()
        #expect(harness.outputs == expected)
        #expect(harness.steps.contains { $0.numScheduledTokens == 64 }, "the budget is used up when prompts wait")
        #expect(harness.steps.contains { $0.requests.count == 4 })
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks == 255)
    }

    @Test func longPromptIsChunkedByTheBudget() throws {
        let harness = try SchedulerHarness(config: config(budget: 32), model: FakeModel.counting)
        let tokens = prompt(1, length: 100)
        let params = SamplingParams.greedy(maxTokens: 3)
        try harness.add("long", prompt: tokens, params: params)
        try harness.runToCompletion()
        let items = harness.steps.map { $0.requests[0] }
        #expect(items.map(\.startPosition) == [0, 32, 64, 96, 100, 101])
        #expect(items.map(\.numScheduledTokens) == [32, 32, 32, 4, 1, 1])
        #expect(items.map(\.samples) == [false, false, false, true, true, true])
        let reference = referenceGeneration(
            prompt: tokens, params: params, eos: [FakeModel.eos], maxModelLen: 128, model: FakeModel.counting)
        #expect(harness.outputs["long"] == reference.tokens)
        #expect(harness.finishReasons["long"] == .length)
    }

    @Test func decodesAndPrefillChunksShareAStep() throws {
        let harness = try SchedulerHarness(config: config(budget: 16), model: FakeModel.counting)
        try harness.add("short", prompt: prompt(1, length: 4), params: .greedy(maxTokens: 5))
        try harness.step()
        try harness.add("long", prompt: prompt(2, length: 40), params: .greedy(maxTokens: 2))
        let mixed = try harness.step()
        #expect(mixed.requests.map(\.requestID) == ["short", "long"])
        #expect(mixed.requests.map(\.numScheduledTokens) == [1, 15])
        #expect(mixed.requests.map(\.samples) == [true, false])
        #expect(mixed.numScheduledTokens == 16)
        try harness.runToCompletion()
        #expect(harness.outputs["short"]?.count == 5)
        #expect(harness.outputs["long"]?.count == 2)
    }

    @Test func longPrefillThresholdCapsEachChunk() throws {
        let harness = try SchedulerHarness(config: config(budget: 64, threshold: 8), model: FakeModel.counting)
        try harness.add("a", prompt: prompt(1, length: 20), params: .greedy(maxTokens: 1))
        try harness.add("b", prompt: prompt(2, length: 12), params: .greedy(maxTokens: 1))
        let first = try harness.step()
        #expect(first.requests.map(\.numScheduledTokens) == [8, 8])
        let second = try harness.step()
        #expect(second.requests.map(\.numScheduledTokens) == [8, 4])
        let third = try harness.step()
        #expect(third.requests.map(\.numScheduledTokens) == [4])
        #expect(!harness.scheduler.hasUnfinishedRequests)
    }

    @Test func lowerPriorityValueRunsFirst() throws {
        let harness = try SchedulerHarness(config: config(maxNumSeqs: 1), model: FakeModel.counting)
        try harness.add("low", prompt: prompt(1, length: 5), params: .greedy(maxTokens: 2), priority: 5)
        try harness.add("high", prompt: prompt(2, length: 5), params: .greedy(maxTokens: 2), priority: -1)
        try harness.add("mid", prompt: prompt(3, length: 5), params: .greedy(maxTokens: 2), priority: 1)
        try harness.runToCompletion()
        let order = harness.steps.compactMap { $0.requests.first?.requestID }
        #expect(order == ["high", "high", "mid", "mid", "low", "low"])
    }

    @Test func equalPrioritiesRunInArrivalOrder() throws {
        let harness = try SchedulerHarness(config: config(maxNumSeqs: 1), model: FakeModel.counting)
        let now = ContinuousClock.now
        for (id, delay) in [("second", 2), ("third", 3), ("first", 1)] {
            try harness.scheduler.add(
                Request(
                    requestID: id, promptTokenIDs: prompt(1, length: 3), samplingParams: .greedy(maxTokens: 1),
                    arrivalTime: now + .milliseconds(delay)))
        }
        for id in ["a", "b"] {
            try harness.add(id, prompt: prompt(2, length: 3), params: .greedy(maxTokens: 1), priority: 9)
        }
        try harness.runToCompletion()
        #expect(harness.steps.map { $0.requests[0].requestID } == ["first", "second", "third", "a", "b"])
    }

    @Test func finishedAndAbortedIDsReachTheNextStep() throws {
        let harness = try SchedulerHarness(config: config(), model: FakeModel.counting)
        try harness.add("done", prompt: prompt(1, length: 3), params: .greedy(maxTokens: 1))
        try harness.add("cut", prompt: prompt(2, length: 3), params: .greedy(maxTokens: 9))
        try harness.add("queued", prompt: prompt(3, length: 3), params: .greedy(maxTokens: 9))
        try harness.step()
        #expect(harness.finishReasons["done"] == .length)
        let aborted = harness.scheduler.abort(["queued", "unknown"])
        #expect(aborted == [RequestUpdate(requestID: "queued", newTokenIDs: [], finishReason: .abort, numCachedTokens: 0)])
        let next = try harness.step()
        #expect(Set(next.finishedRequestIDs) == ["done", "queued"])
        #expect(next.requests.map(\.requestID) == ["cut"])
        #expect(harness.scheduler.finish("cut", reason: .stop)?.finishReason == .stop)
        #expect(harness.scheduler.finish("cut", reason: .stop) == nil)
        #expect(harness.scheduler.numRunning == 0)
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks == 255)
        #expect(try harness.step().finishedRequestIDs == ["cut"])
    }

    @Test func sharedPromptIsComputedOnce() throws {
        let harness = try SchedulerHarness(config: config(), model: FakeModel.counting)
        let tokens = prompt(4, length: 21)
        for i in 0 ..< 3 {
            try harness.add("n\(i)", prompt: tokens, params: .greedy(maxTokens: 2))
        }
        let first = try harness.step()
        // n0 computes the prompt; n1 and n2 start from its 5 full blocks in the same step.
        #expect(first.requests.map(\.numScheduledTokens) == [21, 1, 1])
        let tables = first.requests.map { Array($0.blockTable.prefix(5)) }
        #expect(tables[1] == tables[0] && tables[2] == tables[0])
        #expect(harness.scheduler.request("n1")?.numCachedTokens == 20)
        let stats = harness.scheduler.kvCacheManager.prefixCacheStats
        #expect(stats.requests == 3 && stats.queriedTokens == 63 && stats.hitTokens == 40)
        try harness.runToCompletion()
        #expect(harness.outputs["n0"] == harness.outputs["n1"] && harness.outputs["n1"] == harness.outputs["n2"])
    }

    @Test func disabledPrefixCachingRecomputesSharedPrompts() throws {
        let harness = try SchedulerHarness(config: config(prefixCaching: false), model: FakeModel.counting)
        let tokens = prompt(4, length: 21)
        try harness.add("a", prompt: tokens, params: .greedy(maxTokens: 2))
        try harness.add("b", prompt: tokens, params: .greedy(maxTokens: 2))
        let first = try harness.step()
        #expect(first.requests.map(\.numScheduledTokens) == [21, 21])
        #expect(Set(first.requests[0].blockTable).isDisjoint(with: first.requests[1].blockTable))
        try harness.runToCompletion()
        #expect(harness.outputs["a"] == harness.outputs["b"])
        #expect(harness.scheduler.kvCacheManager.prefixCacheStats.requests == 0)
    }
}
