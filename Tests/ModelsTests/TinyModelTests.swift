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
        ["tiny_models_reference.json", "tiny_gemma_reference.json", "tiny_phi3_reference.json"].reduce(into: [:]) { all, file in
            let data = try! Data(contentsOf: fixtures.appendingPathComponent(file))
            all.merge(try! JSONDecoder().decode([String: Reference].self, from: data)) { $1 }
        }
    }()

    static func load(_ name: String, blockSize: Int = 4, tensorParallelSize: Int = 1) throws -> LlamaCPUModel {
        let folder = try HFModelFolder(path: fixtures.appendingPathComponent(name).path)
        let config = try ModelConfig(huggingFace: folder.config, source: folder.configPath)
        let weights = try LlamaWeights(store: try folder.openWeights(), config: config, naming: .huggingFace)
        return try LlamaCPUModel(config: config, weights: weights, pool: CPUThreadPool(threads: 2),
                                 blockCount: 32, blockSize: blockSize, tensorParallelSize: tensorParallelSize)
    }

    /// A tiny model written as a GGUF file (`name`.gguf in the fixtures).
    static func loadGGUF(_ name: String, blockSize: Int = 4, tensorParallelSize: Int = 1) throws -> LlamaCPUModel {
        let file = try GGUFFile(path: fixtures.appendingPathComponent(name + ".gguf").path)
        let config = try ModelConfig(gguf: file)
        let weights = try LlamaWeights(store: file, config: config, naming: .gguf)
        return try LlamaCPUModel(config: config, weights: weights, pool: CPUThreadPool(threads: 2),
                                 blockCount: 32, blockSize: blockSize, tensorParallelSize: tensorParallelSize)
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
                      "tiny-gemma2", "tiny-gemma3", "tiny-phi3"])
    func logitsMatchTransformers(name: String) throws {
        let reference = try #require(Self.references[name])
        let model = try Self.load(name)
        #expect(model.config.family == ModelFamily.resolve(architecture: reference.model_type))
        let whole = try Self.teacherForced(model, tokens: reference.input_ids, chunks: [reference.input_ids.count])
        #expect(Self.maxRelativeError(whole, reference.logits) < 1e-4)
        // The same positions through the paged cache: a prompt chunk, decodes, more chunks
        // (7, 1, 1, 5, 6 for the 20-token input; cut short for a shorter one).
        var chunks: [Int] = []
        for size in [7, 1, 1, 5, 6] where chunks.reduce(0, +) < reference.input_ids.count {
            chunks.append(min(size, reference.input_ids.count - chunks.reduce(0, +)))
        }
        let chunked = try Self.teacherForced(model, tokens: reference.input_ids, chunks: chunks)
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

    /// Phi-3 past its pretraining length (16 tokens) in one pass: transformers rotates every
    /// position with the long factors, and so does Tern for a sequence whose step reaches past
    /// it. (Chunked, the first chunks would keep the short rotation: see `LongRoPE`.)
    @Test func phi3LongFactorsMatchTransformers() throws {
        let reference = try #require(Self.references["tiny-phi3-long"])
        let model = try Self.load("tiny-phi3")
        let config = model.config
        let longRoPE = try #require(config.longRoPE)
        #expect(config.family == .phi3 && config.slidingWindow == 6 && longRoPE.originalMaxPositions == 16)
        #expect(abs(longRoPE.attentionFactor - 2.0.squareRoot()) < 1e-12)
        #expect(longRoPE.shortFactors == [1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75] && longRoPE.longFactors.first == 2)
        let whole = try Self.teacherForced(model, tokens: reference.input_ids, chunks: [reference.input_ids.count])
        #expect(Self.maxRelativeError(whole, reference.logits) < 1e-4)
        // Decodes past the boundary take the long factors too: 17 tokens at once (long), then
        // three decodes, against the same positions of the one-pass reference.
        let decoded = try Self.teacherForced(model, tokens: reference.input_ids, chunks: [17, 1, 1, 1])
        #expect(Self.maxRelativeError(Array(decoded[17...]), Array(reference.logits[17...])) < 1e-4)
    }

    /// Tiny Phi-3 as llama.cpp's converter writes it (attn_qkv, ffn_up holding gate and up,
    /// rope_factors_short/long tensors, `phi3.rope.scaling.*`): the same logits, both factor sets.
    @Test func phi3FromGGUFMatchesTransformers() throws {
        let model = try Self.loadGGUF("tiny-phi3")
        #expect(model.config.family == .phi3 && model.config.ropeStyle == .neox && model.config.slidingWindow == 6)
        let short = try #require(Self.references["tiny-phi3"])
        let chunked = try Self.teacherForced(model, tokens: short.input_ids, chunks: [7, 1, 1, 3])
        #expect(Self.maxRelativeError(chunked, short.logits) < 1e-4)
        let long = try #require(Self.references["tiny-phi3-long"])
        let whole = try Self.teacherForced(model, tokens: long.input_ids, chunks: [long.input_ids.count])
        #expect(Self.maxRelativeError(whole, long.logits) < 1e-4)
    }

    /// A fused Q/K/V whose rows do not add up to the config's heads is named in the error.
    @Test func phi3FusedWeightOfTheWrongShapeIsRefused() throws {
        let folder = try HFModelFolder(path: Self.fixtures.appendingPathComponent("tiny-phi3").path)
        var config = try ModelConfig(huggingFace: folder.config, source: folder.configPath)
        config.kvHeadCount = 4
        #expect {
            _ = try LlamaWeights(store: try folder.openWeights(), config: config, naming: .huggingFace)
        } throws: { "\($0)".contains("qkv_proj") }
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
