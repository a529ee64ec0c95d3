import Testing

@testable import EngineCore

/// Running out of blocks, aborting, and refusing requests that could never run.
struct SchedulerPreemptionTests {
    private func prompt(_ seed: Int32, length: Int) -> [Int32] {
        (0 ..< Int32(length)).map { ($0 * 5 + seed * 11) % 60 + 1 }
    }

    @Test func preemptedRequestResumesFromItsCachedPrefix() throws {
        // 6 usable blocks of 4 tokens. a feeds 19 tokens (5 blocks), b 13 (4 blocks); both need
        // their fourth block in the same step, when only 6 are in use.
        let config = SchedulerConfig(maxModelLen: 24, blockSize: 4, numBlocks: 7)
        let harness = try SchedulerHarness(config: config, model: FakeModel.counting)
        let params = ["a": SamplingParams.greedy(maxTokens: 12), "b": .greedy(maxTokens: 6)]
        try harness.add("a", prompt: prompt(1, length: 8), params: params["a"]!)
        try harness.add("b", prompt: prompt(2, length: 8), params: params["b"]!)
        try harness.runToCompletion()

        #expect(harness.allPreempted == ["b"], "b is newest, so it yields its blocks to a")
        let preemptingStep = try #require(harness.steps.firstIndex { !$0.preemptedRequestIDs.isEmpty })
        #expect(harness.steps[preemptingStep].requests.map(\.requestID) == ["a"])
        let later = harness.steps[(preemptingStep + 1)...]
        let resumed = try #require(later.first { $0.requests.contains { $0.requestID == "b" } })
        let resumedB = try #require(resumed.requests.first { $0.requestID == "b" })
        #expect(resumedB.startPosition > 0, "b's first block is still cached when it resumes")
        #expect(harness.scheduler.kvCacheManager.prefixCacheStats.hitTokens >= 4)

        for (id, tokens) in [("a", prompt(1, length: 8)), ("b", prompt(2, length: 8))] {
            let reference = referenceGeneration(
                prompt: tokens, params: params[id]!, eos: [FakeModel.eos], maxModelLen: 24, model: FakeModel.counting)
            #expect(harness.outputs[id] == reference.tokens)
        }
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks == 6)
    }

    @Test func outputsUnderPressureMatchAnUnconstrainedRun() throws {
        func run(numBlocks: Int, prefixCaching: Bool) throws -> SchedulerHarness {
            let config = SchedulerConfig(
                maxNumSeqs: 6, maxNumBatchedTokens: 24, maxModelLen: 48, blockSize: 4, numBlocks: numBlocks,
                enablePrefixCaching: prefixCaching)
            let harness = try SchedulerHarness(config: config)
            for i in 0 ..< 12 {
                let params = SamplingParams(temperature: 0, ignoreEOS: i % 3 == 0, maxTokens: 10 + i % 7)
                let shared = prompt(0, length: 8) + prompt(Int32(i), length: 5 + i % 9)
                try harness.add("r\(i)", prompt: shared, params: params, priority: i % 2)
            }
            try harness.runToCompletion()
            return harness
        }
        let roomy = try run(numBlocks: 200, prefixCaching: true)
        #expect(roomy.allPreempted.isEmpty)
        for (numBlocks, prefixCaching) in [(13, true), (13, false), (20, true)] {
            let tight = try run(numBlocks: numBlocks, prefixCaching: prefixCaching)
            #expect(!tight.allPreempted.isEmpty, "\(numBlocks) blocks should force preemption")
            #expect(tight.outputs == roomy.outputs)
            #expect(tight.finishReasons == roomy.finishReasons)
            #expect(tight.scheduler.kvCacheManager.numFreeBlocks == numBlocks - 1)
        }
    }

    @Test func requestCanPreemptItselfAndOthersStillRun() throws {
        // 4 usable blocks. low is admitted first, so it comes first in the running order.
        let config = SchedulerConfig(maxModelLen: 16, blockSize: 4, numBlocks: 5)
        let harness = try SchedulerHarness(config: config, model: FakeModel.counting)
        try harness.add("low", prompt: prompt(1, length: 4), params: .greedy(maxTokens: 10), priority: 1)
        try harness.step()
        try harness.add("high", prompt: prompt(2, length: 4), params: .greedy(maxTokens: 10), priority: 0)
        try harness.runToCompletion()
        // low needs its third block first; it is the lowest priority, so it yields, and high
        // still runs in that step.
        let step = try #require(harness.steps.first { !$0.preemptedRequestIDs.isEmpty })
        #expect(step.preemptedRequestIDs == ["low"])
        #expect(step.requests.map(\.requestID) == ["high"])
        #expect(harness.allPreempted.allSatisfy { $0 == "low" })
        #expect(harness.outputs["low"]?.count == 10 && harness.outputs["high"]?.count == 10)
    }

    @Test func lowerPriorityIsPreemptedEvenWhenAlreadyScheduled() throws {
        // low's blocks fill at other positions than high's, so in the step where high needs a
        // block, low was already given its decode token: it is taken back out of the batch.
        let config = SchedulerConfig(maxModelLen: 16, blockSize: 4, numBlocks: 5)
        let harness = try SchedulerHarness(config: config, model: FakeModel.counting)
        try harness.add("low", prompt: prompt(1, length: 2), params: .greedy(maxTokens: 10), priority: 5)
        try harness.step()
        try harness.add("high", prompt: prompt(2, length: 4), params: .greedy(maxTokens: 10), priority: 0)
        try harness.runToCompletion()
        let step = try #require(harness.steps.first { !$0.preemptedRequestIDs.isEmpty })
        #expect(step.preemptedRequestIDs == ["low"])
        #expect(step.requests.map(\.requestID) == ["high"])
        #expect(step.numScheduledTokens == 1)
        for (id, length) in [("low", 2), ("high", 4)] {
            let reference = referenceGeneration(
                prompt: prompt(id == "low" ? 1 : 2, length: length), params: .greedy(maxTokens: 10),
                eos: [FakeModel.eos], maxModelLen: 16, model: FakeModel.counting)
            #expect(harness.outputs[id] == reference.tokens)
        }
    }

    @Test func abortFreesBlocksWherever() throws {
        let config = SchedulerConfig(maxNumSeqs: 2, maxModelLen: 64, blockSize: 4, numBlocks: 32)
        let harness = try SchedulerHarness(config: config, model: FakeModel.counting)
        for id in ["running", "chunking", "waiting"] {
            try harness.add(id, prompt: prompt(3, length: 10), params: .greedy(maxTokens: 20))
        }
        try harness.step()
        try harness.step()
        #expect(harness.scheduler.numRunning == 2)
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks < 31)
        let updates = harness.scheduler.abort(["running", "chunking", "waiting", "running"])
        #expect(updates.map(\.requestID) == ["running", "chunking", "waiting"])
        #expect(updates.allSatisfy { $0.finishReason == .abort })
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks == 31)
        #expect(!harness.scheduler.hasUnfinishedRequests)
        #expect(harness.scheduler.numWaiting == 0)
        let next = try harness.step()
        #expect(next.isEmpty)
        #expect(Set(next.finishedRequestIDs) == ["running", "chunking", "waiting"])
    }

    @Test func requestsThatCanNeverFitAreRefused() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxModelLen: 32, blockSize: 4, numBlocks: 9))
        func refusal(_ request: Request) -> String? {
            do {
                try scheduler.add(request)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let big = Request(requestID: "big", promptTokenIDs: prompt(1, length: 20), samplingParams: .greedy(maxTokens: 13))
        #expect(
            refusal(big) == "request 'big': the maximum context length is 32 tokens, but 33 were requested "
                + "(20 in the prompt, 13 to generate)")
        let full = Request(requestID: "full", promptTokenIDs: prompt(1, length: 32), samplingParams: .greedy(maxTokens: nil))
        #expect(
            refusal(full) == "request 'full': the prompt has 32 tokens, leaving no room to generate within the "
                + "maximum context length of 32 tokens")
        #expect(
            refusal(Request(requestID: "empty", promptTokenIDs: [], samplingParams: .greedy()))
                == "request 'empty' has an empty prompt; at least one token is needed")
        let fits = Request(requestID: "ok", promptTokenIDs: prompt(1, length: 20), samplingParams: .greedy(maxTokens: 12))
        #expect(refusal(fits) == nil)
        #expect(
            refusal(Request(requestID: "ok", promptTokenIDs: [1], samplingParams: .greedy()))
                == "request id 'ok' is already in use by an unfinished request")
        scheduler.abort(["ok"])
        #expect(
            refusal(fits) == "request 'ok' was already added to a scheduler; make a new Request to run it again")
        #expect(scheduler.numWaiting == 0)
    }

    @Test func configurationsThatCannotWorkAreRefused() {
        func refusal(_ config: SchedulerConfig) -> String? {
            do {
                _ = try Scheduler(config: config)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(
            refusal(SchedulerConfig(maxModelLen: 64, blockSize: 16, numBlocks: 4))
                == "invalid scheduler configuration: maxModelLen 64 does not fit in the KV cache: 3 blocks of "
                + "16 tokens hold 48 tokens; lower maxModelLen or add blocks")
        #expect(
            refusal(SchedulerConfig(maxModelLen: 8, numBlocks: 1))
                == "invalid scheduler configuration: numBlocks must be >= 2 (block 0 is reserved), got 1")
        #expect(
            refusal(SchedulerConfig(maxNumSeqs: 0, maxModelLen: 8, numBlocks: 4))
                == "invalid scheduler configuration: maxNumSeqs must be >= 1, got 0")
        #expect(
            refusal(SchedulerConfig(maxModelLen: 8, numBlocks: 4, longPrefillTokenThreshold: 0))
                == "invalid scheduler configuration: longPrefillTokenThreshold must be >= 1, got 0")
        #expect(refusal(SchedulerConfig(maxModelLen: 48, blockSize: 16, numBlocks: 4)) == nil)
    }
}
