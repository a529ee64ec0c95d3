import CPUBackend
import Foundation
import ModelLoading
import Models
import Testing

/// Tiny random-weight models of each supported architecture, saved by transformers
/// (scripts/make_model_reference.py), against transformers' float32 logits.
@Suite struct TinyModelTests {
    struct Reference: Decodable {
        let model_type: String
        let input_ids: [Int32]
        let logits: [[Float]]
    }

    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static let references: [String: Reference] = {
        ["tiny_models_reference.json", "tiny_gemma_reference.json"].reduce(into: [:]) { all, file in
            let data = try! Data(contentsOf: fixtures.appendingPathComponent(file))
            all.merge(try! JSONDecoder().decode([String: Reference].self, from: data)) { $1 }
        }
    }()

    static func load(_ name: String, blockSize: Int = 4) throws -> LlamaCPUModel {
        let folder = try HFModelFolder(path: fixtures.appendingPathComponent(name).path)
        let config = try ModelConfig(huggingFace: folder.config, source: folder.configPath)
        let weights = try LlamaWeights(store: try folder.openWeights(), config: config, naming: .huggingFace)
        return try LlamaCPUModel(config: config, weights: weights, pool: CPUThreadPool(threads: 2),
                                 blockCount: 32, blockSize: blockSize)
    }

    /// A tiny model written as a GGUF file (`name`.gguf in the fixtures).
    static func loadGGUF(_ name: String, blockSize: Int = 4) throws -> LlamaCPUModel {
        let file = try GGUFFile(path: fixtures.appendingPathComponent(name + ".gguf").path)
        let config = try ModelConfig(gguf: file)
        let weights = try LlamaWeights(store: file, config: config, naming: .gguf)
        return try LlamaCPUModel(config: config, weights: weights, pool: CPUThreadPool(threads: 2),
                                 blockCount: 32, blockSize: blockSize)
    }

    /// Runs `tokens` through `model` in chunks of the given sizes (one sequence, pages
    /// taken in a scrambled order), returning the logits of every position.
    static func teacherForced(_ model: LlamaCPUModel, tokens: [Int32], chunks: [Int]) throws -> [[Float]] {
        let blocks: [Int32] = [9, 3, 17, 5, 11, 2, 30, 8]
        var batch = ForwardBatch()
        var rows: [[Float]] = []
        var start = 0
        for size in chunks {
            batch.reset(maxBlocksPerSequence: blocks.count)
            let needed = (start + size + model.blockSize - 1) / model.blockSize
            batch.append(tokens: tokens[start ..< start + size], start: start, blocks: blocks.prefix(needed),
                         blockSize: model.blockSize, wantsLogits: false)
            batch.logitsIndices = (0..<Int32(size)).map { $0 }
            let logits = try model.execute(batch)
            let vocabulary = model.config.vocabularySize
            for row in 0..<size { rows.append(Array(logits[row * vocabulary ..< (row + 1) * vocabulary])) }
            start += size
        }
        return rows
    }

    static func maxRelativeError(_ actual: [[Float]], _ expected: [[Float]]) -> Float {
        var worst: Float = 0
        for (a, e) in zip(actual, expected) {
            let scale = max(e.map(abs).max() ?? 1, 1e-3)
            for (x, y) in zip(a, e) { worst = max(worst, abs(x - y) / scale) }
        }
        return worst
    }

    static func maxAbsoluteError(_ actual: [[Float]], _ expected: [[Float]]) -> Float {
        zip(actual, expected).map { a, e in zip(a, e).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    @Test(arguments: ["tiny-llama3", "tiny-llama-bf16-sharded", "tiny-qwen2", "tiny-qwen3", "tiny-mistral",
                      "tiny-gemma2", "tiny-gemma3"])
    func logitsMatchTransformers(name: String) throws {
        let reference = try #require(Self.references[name])
        let model = try Self.load(name)
        #expect(model.config.family == ModelFamily.resolve(architecture: reference.model_type))
        let whole = try Self.teacherForced(model, tokens: reference.input_ids, chunks: [reference.input_ids.count])
        #expect(Self.maxRelativeError(whole, reference.logits) < 1e-4)
        // The same positions through the paged cache: a prompt chunk, decodes, more chunks.
        let chunked = try Self.teacherForced(model, tokens: reference.input_ids, chunks: [7, 1, 1, 5, 6])
        #expect(Self.maxRelativeError(chunked, reference.logits) < 1e-4)
    }

    /// Tiny Gemma 2 as llama.cpp's converter writes it (norms as 1 + w, `gemma2.*` soft-cap and
    /// window keys, the layer pattern implied): the same logits as from its HF folder.
    @Test func gemma2FromGGUFMatchesTransformers() throws {
        let reference = try #require(Self.references["tiny-gemma2"])
        let model = try Self.loadGGUF("tiny-gemma2")
        #expect(model.config.family == .gemma2 && model.config.attentionLogitSoftcap == 2 && model.config.finalLogitSoftcap == 3)
        let chunked = try Self.teacherForced(model, tokens: reference.input_ids, chunks: [7, 1, 1, 5, 6])
        #expect(Self.maxRelativeError(chunked, reference.logits) < 1e-4)
    }

    /// The tiny Gemmas' windows (5 tokens) are shorter than the input, and both have global layers.
    @Test func gemmaLayerTypesAreRead() throws {
        let gemma3 = try Self.load("tiny-gemma3").config
        #expect(gemma3.slidingWindow == 5 && (0..<6).map { gemma3.slidingWindow(layer: $0) } == [5, 5, 5, 5, 5, 0])
        #expect(gemma3.localRopeTheta == 10000 && gemma3.ropeTheta == 1_000_000 && gemma3.ropeScaling == .linear(factor: 2))
        #expect(gemma3.attentionScale == Float(1 / 24.0.squareRoot()) && gemma3.tieWordEmbeddings)
        let gemma2 = try Self.load("tiny-gemma2").config
        #expect((0..<4).map { gemma2.slidingWindow(layer: $0) } == [5, 0, 5, 0] && gemma2.localRopeTheta == nil)
        #expect(gemma2.attentionLogitSoftcap == 2 && gemma2.finalLogitSoftcap == 3)
    }

    @Test func llama3RopeScalingIsApplied() throws {
        let model = try Self.load("tiny-llama3")
        guard case .llama3(let factor, _, _, let original) = model.config.ropeScaling else {
            Issue.record("expected llama3 rope scaling, got \(model.config.ropeScaling)")
            return
        }
        #expect(factor == 8 && original == 16)
        let plain = RotaryEmbedding(rotaryDim: 16, theta: model.config.ropeTheta, scaling: .none, style: .neox)
        #expect(model.rope.inverseFrequencies != plain.inverseFrequencies)
        // The longest wavelength is beyond original / low_freq_factor: slowed by the whole factor.
        #expect(model.rope.inverseFrequencies.last! == plain.inverseFrequencies.last! / 8)
    }
}
