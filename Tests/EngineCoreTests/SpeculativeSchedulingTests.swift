import Testing

@testable import EngineCore

/// Draft tokens in the scheduler: fed after a decode's last token, verified by the model
/// (greedily, by the `PagedTokenRunner`), the rejected ones rolled back. Whatever the drafts,
/// the outputs are those of plain decoding, the blocks all come back, and no draft's slot is
/// ever found through the prefix cache.
struct SpeculativeSchedulingTests {
    /// Drafts of the model's own next `k` tokens, every `wrongEvery`-th of them changed, so
    /// that steps accept every length from none to all.
    private static func proposer(k: Int, wrongEvery: Int, model: @escaping ([Int32]) -> Int32)
        -> (Scheduler) -> Void
    {
        var counter = 0
        return { scheduler in
            for request in scheduler.runningRequests where request.isDecoding {
                var history = request.allTokenIDs
                var drafts: [Int32] = []
                for _ in 0 ..< k {
                    counter += 1
                    var token = model(history)
                    if counter % wrongEvery == 0 { token = (token + 1) % FakeModel.vocabularySize }
                    drafts.append(token)
                    history.append(token)
                }
                scheduler.setDraftTokens(request.requestID, drafts)
            }
        }
    }

    private func run(k: Int, wrongEvery: Int, params: SamplingParams, requests: Int = 6,
                     config: SchedulerConfig = SchedulerConfig(maxNumBatchedTokens: 40, maxModelLen: 96, blockSize: 4,
                                                               numBlocks: 128)) throws -> SchedulerHarness {
        let harness = try SchedulerHarness(config: config)
        harness.proposer = Self.proposer(k: k, wrongEvery: wrongEvery, model: FakeModel.hashing)
        var prompts: [String: [Int32]] = [:]
        for index in 0 ..< requests {
            let prompt = (0 ..< 5 + index * 3).map { Int32(($0 * 7 + index) % 60 + 1) }
            prompts["r\(index)"] = prompt
            try harness.add("r\(index)", prompt: prompt, params: params)
        }
        try harness.runToCompletion()
        for (id, prompt) in prompts {
            let reference = referenceGeneration(prompt: prompt, params: params, eos: [FakeModel.eos],
                                                maxModelLen: config.maxModelLen)
            #expect(harness.outputs[id] == reference.tokens, "\(id) differs from plain decoding")
            #expect(harness.finishReasons[id] == reference.reason)
        }
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks == config.numBlocks - 1)
        return harness
    }

    @Test(arguments: [(1, 1), (3, 2), (4, 5), (7, 3), (8, 1_000)])
    func outputsEqualPlainDecoding(k: Int, wrongEvery: Int) throws {
        let harness = try run(k: k, wrongEvery: wrongEvery, params: SamplingParams(temperature: 0, ignoreEOS: true, maxTokens: 40))
        #expect(harness.steps.contains { $0.requests.contains { !$0.draftTokenIDs.isEmpty } })
    }

    @Test func stopsWithinDraftsEndTheRequestThere() throws {
        // EOS and maxTokens can fall on an accepted draft: tokens after it are dropped.
        _ = try run(k: 6, wrongEvery: 1_000, params: .greedy(maxTokens: 37), requests: 8)
        _ = try run(k: 5, wrongEvery: 4, params: SamplingParams(temperature: 0, maxTokens: 23, minTokens: 3), requests: 8)
    }

    @Test func draftsAreCutToTheContextAndMaxTokens() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxModelLen: 12, blockSize: 4, numBlocks: 16))
        let request = Request(requestID: "r", promptTokenIDs: [1, 2, 3, 4, 5, 6], samplingParams: .greedy(maxTokens: 4))
        try scheduler.add(request)
        #expect(scheduler.setDraftTokens("r", [9, 9]) == 0, "a request in prefill takes no drafts")
        _ = try scheduler.update(scheduler.schedule(), sampled: ["r": [7]])
        // One output token: at most 4 - 1 - 1 more drafts fit maxTokens.
        #expect(scheduler.setDraftTokens("r", [9, 9, 9, 9]) == 2)
        #expect(request.draftTokenIDs == [9, 9])
        let output = scheduler.schedule()
        #expect(output.requests[0].draftTokenIDs == [9, 9])
        #expect(output.requests[0].numScheduledTokens == 3)
        #expect(output.tokenIDs == [7, 9, 9])
        let error = try #require(throws: SchedulerError.self) {
            try scheduler.update(output, sampled: ["r": [9, 9, 9, 9]])
        }
        #expect(error == .tooManySampledTokens(requestID: "r", given: 4, drafts: 2))
        let updates = try scheduler.update(output, sampled: ["r": [9, 9, 4]])
        #expect(updates.first?.newTokenIDs == [9, 9, 4])
        #expect(updates.first?.finishReason == .length)
    }

    @Test func rejectedDraftsAreRolledBackAndTheirBlocksFreed() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxModelLen: 64, blockSize: 4, numBlocks: 32))
        let request = Request(requestID: "r", promptTokenIDs: [1, 2, 3, 4, 5, 6, 7], samplingParams: .greedy(maxTokens: 30))
        try scheduler.add(request)
        _ = try scheduler.update(scheduler.schedule(), sampled: ["r": [8]])
        #expect(scheduler.kvCacheManager.blockIDs(of: "r").count == 2)
        scheduler.setDraftTokens("r", [9, 10, 11, 12, 13, 14])
        let output = scheduler.schedule()
        // Positions 7 ... 14: four blocks.
        #expect(output.requests[0].blockTable.count == 4)
        // The first draft is confirmed, the second is not: 8, 9 computed, 20 follows.
        let updates = try scheduler.update(output, sampled: ["r": [9, 20]])
        #expect(updates.first?.newTokenIDs == [9, 20])
        #expect(request.numComputedTokens == 9)
        #expect(request.allTokenIDs == [1, 2, 3, 4, 5, 6, 7, 8, 9, 20])
        #expect(request.draftTokenIDs.isEmpty)
        #expect(scheduler.kvCacheManager.blockIDs(of: "r").count == 3)
        #expect(scheduler.kvCacheManager.numFreeBlocks == 31 - 3)
        // The next step feeds the token that followed the rejection.
        let next = scheduler.schedule()
        #expect(next.tokenIDs == [20])
        #expect(next.requests[0].startPosition == 9)
    }

    @Test func theBudgetCutsDrafts() throws {
        let scheduler = try Scheduler(config: SchedulerConfig(maxNumBatchedTokens: 3, maxModelLen: 64, blockSize: 4,
                                                              numBlocks: 32))
        let request = Request(requestID: "r", promptTokenIDs: [1, 2, 3], samplingParams: .greedy(maxTokens: 30))
        try scheduler.add(request)
        _ = try scheduler.update(scheduler.schedule(), sampled: ["r": [8]])
        scheduler.setDraftTokens("r", [9, 10, 11, 12])
        let output = scheduler.schedule()
        #expect(output.requests[0].draftTokenIDs == [9, 10])
        #expect(output.tokenIDs == [8, 9, 10])
    }

    @Test func preemptionDropsDrafts() throws {
        // Two requests, room for one: the newer is preempted and its drafts go with its blocks.
        let harness = try SchedulerHarness(
            config: SchedulerConfig(maxNumBatchedTokens: 64, maxModelLen: 40, blockSize: 4, numBlocks: 12))
        harness.proposer = Self.proposer(k: 4, wrongEvery: 3, model: FakeModel.hashing)
        let params = SamplingParams(temperature: 0, ignoreEOS: true, maxTokens: 24)
        let prompts: [[Int32]] = [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]
        for (index, prompt) in prompts.enumerated() { try harness.add("r\(index)", prompt: prompt, params: params) }
        try harness.runToCompletion()
        #expect(!harness.allPreempted.isEmpty)
        for (index, prompt) in prompts.enumerated() {
            let reference = referenceGeneration(prompt: prompt, params: params, eos: [FakeModel.eos], maxModelLen: 40)
            #expect(harness.outputs["r\(index)"] == reference.tokens)
        }
        #expect(harness.scheduler.kvCacheManager.numFreeBlocks == 11)
    }
}
