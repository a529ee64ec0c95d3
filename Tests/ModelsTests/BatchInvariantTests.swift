import Engine
import Foundation
import Logging
import Models
import Testing

/// `--batch-invariant` on the CPU: a sequence's logits are the same bits whether it runs
/// alone, one token a step (the one-token matmul and attention paths), or as prompt chunks
/// of 1 to 7 tokens beside two other prompts in the same steps (the few-token and many-token
/// paths, other sequences' attention items). Sliding windows (Gemma 3, gpt-oss), attention
/// sinks, experts and a Q8_0 GGUF (whose one-token matmul is an integer kernel on AVX2 and
/// AVX-512) are among the tiny models.
@Suite struct BatchInvariantTests {
    static let target: [Int32] = (0..<20).map { Int32(($0 * 37 + 11) % 120) }
    static let blocks: [Int32] = [9, 3, 17, 5, 11, 2, 30, 8]

    static func load(_ name: String) throws -> LlamaCPUModel {
        name.hasSuffix(".gguf") ? try TinyModelTests.loadGGUF(String(name.dropLast(5))) : try TinyModelTests.load(name)
    }

    /// The target's logits, one token a step, alone.
    static func alone(_ model: LlamaCPUModel) throws -> [[Float]] {
        try TinyModelTests.teacherForced(model, tokens: target, chunks: [Int](repeating: 1, count: target.count))
    }

    /// The target's logits in chunks of 7, 1, 1, 5 and 6 tokens, each step also prefilling two
    /// other prompts (13 tokens before the target's rows, 4 after) in pages of their own.
    static func batched(_ model: LlamaCPUModel) throws -> [[Float]] {
        let vocabulary = model.config.vocabularySize
        var batch = ForwardBatch()
        var rows: [[Float]] = []
        var start = 0
        for (step, size) in [7, 1, 1, 5, 6].enumerated() {
            batch.reset(maxBlocksPerSequence: blocks.count)
            let before = (0..<13).map { Int32(($0 * 11 + step * 5 + 3) % 128) }
            let after = (0..<4).map { Int32(($0 * 29 + step) % 128) }
            batch.append(tokens: before, start: 0, blocks: [0, 1, 4, 6], blockSize: model.blockSize, wantsLogits: false)
            let needed = (start + size + model.blockSize - 1) / model.blockSize
            batch.append(tokens: target[start ..< start + size], start: start, blocks: blocks.prefix(needed),
                         blockSize: model.blockSize, wantsLogits: false)
            batch.append(tokens: after, start: 0, blocks: [7], blockSize: model.blockSize, wantsLogits: false)
            batch.logitsIndices = (0..<Int32(size)).map { 13 + $0 }
            let logits = try model.execute(batch)
            for row in 0..<size { rows.append(Array(logits[row * vocabulary ..< (row + 1) * vocabulary])) }
            start += size
        }
        return rows
    }

    /// Positions whose logits differ in any bit.
    static func differingRows(_ a: [[Float]], _ b: [[Float]]) -> [Int] {
        zip(a, b).enumerated().compactMap { index, pair in
            pair.0.map(\.bitPattern) == pair.1.map(\.bitPattern) ? nil : index
        }
    }

    @Test(arguments: ["tiny-llama3", "tiny-qwen3", "tiny-gemma3", "tiny-gpt-oss", "tiny-qwen2-moe",
                      "tiny-mixtral-q8_0.gguf", "tiny-gemma2.gguf"])
    func aSequenceGetsTheSameLogitsAloneAndBatched(name: String) throws {
        let model = try Self.load(name)
        model.pool.batchInvariant = true
        let alone = try Self.alone(model)
        let batched = try Self.batched(model)
        #expect(alone.count == Self.target.count && batched.count == Self.target.count)
        #expect(Self.differingRows(alone, batched) == [], "\(name): positions whose logits differ in some bit")
        // Still the model: within the default mode's tolerance of its usual logits.
        model.pool.batchInvariant = false
        let usual = try Self.alone(model)
        #expect(TinyModelTests.maxRelativeError(alone, usual) < 1e-5)
    }

    @Test func cudaRefusesTheMode() {
        var options = LoadOptions()
        options.device = .cuda
        options.batchInvariant = true
        let path = TinyModelTests.fixtures.appendingPathComponent("tiny-llama3").path
        #expect { try LoadedModel(path, options: options, logger: Logger(label: "test")) } throws: {
            "\($0)".contains("--batch-invariant runs on --device cpu only")
        }
    }
}
