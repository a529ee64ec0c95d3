import Engine
import EngineCore
import Foundation
import Models
import Testing

/// A real GGUF model against HF transformers (float32, the GGUF dequantized by the `gguf`
/// package): the fixtures `{stem}_reference.json` and `{stem}_first_logits.f32` written by
/// scripts/make_model_reference.py, and the checks every such model passes.
struct GGUFModelReference {
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

    let stem: String
    let reference: Reference

    init(stem: String) {
        self.stem = stem
        let data = try! Data(contentsOf: Self.fixtures.appendingPathComponent("\(stem)_reference.json"))
        reference = try! JSONDecoder().decode(Reference.self, from: data)
    }

    func checkTokenization(_ model: LoadedModel) {
        for item in reference.cases {
            #expect(model.tokenizer.encode(item.prompt) == item.prompt_token_ids, "\(item.prompt.debugDescription)")
        }
    }

    /// Each prompt's last-position logits: HF's top 64 and, for the first few prompts, the
    /// whole vector, within `tolerance`. Returns the largest difference seen.
    @discardableResult
    func checkFirstStepLogits(_ model: LoadedModel, tolerance: Float) throws -> Float {
        let full = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(stem)_first_logits.f32"))
        let (fullCount, vocabulary) = full.withUnsafeBytes { ($0.load(as: Int32.self), $0.load(fromByteOffset: 4, as: Int32.self)) }
        #expect(Int(vocabulary) == model.config.vocabularySize)
        var overall: Float = 0
        for (index, item) in reference.cases.enumerated() {
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
            #expect(worst < tolerance, "\(item.prompt.debugDescription): max |Δlogit| = \(worst)")
            overall = max(overall, worst)
        }
        print("\(stem) first-step logits: max |Tern - HF| = \(overall) over \(reference.cases.count) prompts")
        return overall
    }

    /// All prompts at once through the engine (so they share batches), each compared with the
    /// reference up to the first step where HF's top two logits are within 0.01.
    func checkGreedyContinuations(_ model: LoadedModel) throws {
        let llm = try LLM(model: model)
        let params = SamplingParams(temperature: 0, ignoreEOS: true, maxTokens: reference.new_tokens)
        let completions = try llm.generate(reference.cases.map(\.prompt_token_ids), params: params)
        #expect(completions.count == reference.cases.count)
        var matched = 0, compared = 0
        for (item, completion) in zip(reference.cases, completions) {
            let comparable = item.top2_margins.firstIndex { $0 < 0.01 } ?? item.greedy_token_ids.count
            let same = zip(completion.tokenIDs, item.greedy_token_ids).prefix { $0 == $1 }.count
            matched += min(same, comparable)
            compared += comparable
            #expect(Array(completion.tokenIDs.prefix(comparable)) == Array(item.greedy_token_ids.prefix(comparable)),
                    "\(item.prompt.debugDescription) (compared \(comparable) tokens)")
        }
        print("\(stem) greedy: \(matched)/\(compared) tokens before the first near-tie match HF")
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
