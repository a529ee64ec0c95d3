import CPUBackend
import Foundation
import ModelLoading
import Models
import Testing

/// Mixture-of-experts models: routing, config fields, malformed checkpoints, and the tiny
/// Mixtral / Qwen3-MoE / Qwen2-MoE / OLMoE folders against transformers, alone and in mixed batches.
@Suite struct MoETests {
    static let names = ["tiny-mixtral", "tiny-qwen3-moe", "tiny-qwen2-moe", "tiny-olmoe"]
    static let references: [String: TinyModelTests.Reference] = {
        let data = try! Data(contentsOf: TinyModelTests.fixtures.appendingPathComponent("tiny_moe_reference.json"))
        return try! JSONDecoder().decode([String: TinyModelTests.Reference].self, from: data)
    }()

    // MARK: routing

    func route(_ logits: [[Float]], topK: Int, normalize: Bool) -> ExpertRouting {
        var routing = ExpertRouting(expertCount: logits[0].count, topK: topK, normalize: normalize)
        let flat = logits.flatMap { $0 }
        flat.withUnsafeBufferPointer { routing.route(logits: $0.baseAddress!, tokens: logits.count) }
        return routing
    }

    func softmax(_ row: [Float]) -> [Float] {
        let top = row.max()!
        let e = row.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    @Test func topKPicksTheLargestAndRenormalises() {
        let logits: [Float] = [0.5, 2.0, -1.0, 1.0]
        let p = softmax(logits)
        let raw = route([logits], topK: 2, normalize: false)
        #expect(raw.experts == [1, 3])
        #expect(abs(raw.weights[0] - p[1]) < 1e-6 && abs(raw.weights[1] - p[3]) < 1e-6)
        let normalized = route([logits], topK: 2, normalize: true)
        #expect(normalized.experts == [1, 3])
        #expect(abs(normalized.weights[0] - p[1] / (p[1] + p[3])) < 1e-6)
        #expect(abs(normalized.weights.reduce(0, +) - 1) < 1e-6)
    }

    /// k == expert count: every expert is chosen, largest first; unnormalised weights are the
    /// whole softmax (which already sums to 1), so renormalising changes nothing.
    @Test func topKOfEveryExpert() {
        let logits: [Float] = [0.1, -0.3, 0.7]
        let p = softmax(logits)
        for normalize in [false, true] {
            let all = route([logits], topK: 3, normalize: normalize)
            #expect(all.experts == [2, 0, 1])
            for (expert, weight) in zip(all.experts, all.weights) { #expect(abs(weight - p[Int(expert)]) < 1e-6) }
        }
    }

    /// Equal logits: the lower expert index wins, and the tied weights are equal.
    @Test func tiesGoToTheLowerExpert() {
        let routing = route([[1, 3, 3, 3], [0, 0, 0, 0]], topK: 2, normalize: true)
        #expect(routing.experts == [1, 2, 0, 1])
        #expect(routing.weights == [0.5, 0.5, 0.5, 0.5])
    }

    /// The slots sorted by expert, each expert's in token order, with offsets per expert.
    @Test func slotsAreGroupedByExpert() {
        // token 0 -> experts 2, 0; token 1 -> 0, 1; token 2 -> 2, 1
        let routing = route([[5, 0, 9, -9], [9, 5, 0, -9], [0, 5, 9, -9]], topK: 2, normalize: false)
        #expect(routing.experts == [2, 0, 0, 1, 2, 1])
        #expect(routing.offsets == [0, 2, 4, 6, 6])
        #expect(routing.order == [1, 2, 3, 5, 0, 4])
    }

    // MARK: config

    func config(_ json: String) throws -> ModelConfig {
        try ModelConfig(huggingFace: try JSONValue(parsing: json), source: "config.json")
    }

    let base = #""hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4, "num_attention_heads": 4, "vocab_size": 128"#

    @Test func readsMixtralAndQwenExpertFields() throws {
        let mixtral = try config(#"{"architectures": ["MixtralForCausalLM"], \#(base), "num_local_experts": 8, "num_experts_per_tok": 2, "router_jitter_noise": 0.1, "sliding_window": null}"#)
        #expect(mixtral.family == .mixtral)
        #expect(mixtral.moe == MoEConfig(expertCount: 8, expertsPerToken: 2, expertIntermediateSize: 96, normalizeTopK: true,
                                         sparseLayers: [true, true, true, true]))
        let qwen3 = try config(#"{"architectures": ["Qwen3MoeForCausalLM"], \#(base), "num_experts": 16, "num_experts_per_tok": 4, "moe_intermediate_size": 32, "norm_topk_prob": true, "decoder_sparse_step": 1, "mlp_only_layers": [0, 2]}"#)
        #expect(qwen3.family == .qwen3Moe && qwen3.family.hasQKNorm && !qwen3.family.hasQKVBias)
        #expect(qwen3.moe?.sparseLayers == [false, true, false, true] && qwen3.moe?.normalizeTopK == true)
        #expect(qwen3.moe?.expertIntermediateSize == 32 && qwen3.moe?.sharedExpertIntermediateSize == 0)
        let qwen2 = try config(#"{"model_type": "qwen2_moe", \#(base), "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 48, "decoder_sparse_step": 2}"#)
        #expect(qwen2.family == .qwen2Moe && qwen2.family.hasQKVBias)
        #expect(qwen2.moe?.sparseLayers == [false, true, false, true] && qwen2.moe?.normalizeTopK == false)
        #expect(qwen2.moe?.sharedExpertIntermediateSize == 48)
        #expect(!qwen2.isSparse(layer: 0) && qwen2.isSparse(layer: 3))
        let olmoe = try config(#"{"architectures": ["OlmoeForCausalLM"], \#(base), "num_experts": 64, "num_experts_per_tok": 8, "norm_topk_prob": false, "clip_qkv": null}"#)
        #expect(olmoe.family == .olmoe && olmoe.family.normsWholeQK)
        #expect(olmoe.moe == MoEConfig(expertCount: 64, expertsPerToken: 8, expertIntermediateSize: 96, normalizeTopK: false,
                                       sparseLayers: [true, true, true, true]))
    }

    @Test func malformedExpertFieldsAreNamed() {
        #expect { try config(#"{"architectures": ["MixtralForCausalLM"], \#(base), "num_local_experts": 2, "num_experts_per_tok": 3}"#) } throws: {
            "\($0)".contains("config.json") && "\($0)".contains("num_experts_per_tok is 3") && "\($0)".contains("2 experts")
        }
        #expect { try config(#"{"architectures": ["Qwen3MoeForCausalLM"], \#(base), "num_experts": 0, "num_experts_per_tok": 1}"#) } throws: {
            "\($0)".contains("num_experts (num_local_experts) is 0")
        }
        #expect { try config(#"{"architectures": ["Qwen3MoeForCausalLM"], \#(base), "num_experts": 4, "num_experts_per_tok": 1, "moe_intermediate_size": 0}"#) } throws: {
            "\($0)".contains("moe_intermediate_size")
        }
        #expect { try config(#"{"architectures": ["MixtralForCausalLM"], \#(base), "num_local_experts": "eight"}"#) } throws: {
            "\($0)".contains("'num_local_experts'")
        }
        #expect { try config(#"{"architectures": ["OlmoeForCausalLM"], \#(base), "num_experts": 4, "num_experts_per_tok": 2, "clip_qkv": 8.0}"#) } throws: {
            "\($0)".contains("clip_qkv")
        }
    }

    /// A tensor of a safetensors file: dtype name, shape, bytes.
    typealias Tensor = (dtype: String, shape: [Int], bytes: Data)

    /// The tensors of fixture `name`'s model.safetensors.
    static func tensors(of name: String) throws -> [String: Tensor] {
        let data = try Data(contentsOf: TinyModelTests.fixtures.appendingPathComponent(name).appendingPathComponent("model.safetensors"))
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + headerLength)) as? [String: Any])
        var tensors: [String: Tensor] = [:]
        for (key, value) in header where key != "__metadata__" {
            let entry = try #require(value as? [String: Any])
            let offsets = try #require(entry["data_offsets"] as? [Int])
            tensors[key] = (try #require(entry["dtype"] as? String), try #require(entry["shape"] as? [Int]),
                            data.subdata(in: 8 + headerLength + offsets[0] ..< 8 + headerLength + offsets[1]))
        }
        return tensors
    }

    /// A model folder in a new temporary directory: fixture `name`'s config.json and `tensors`.
    static func folder(config name: String, tensors: [String: Tensor]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tern-moe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyModelTests.fixtures.appendingPathComponent(name).appendingPathComponent("config.json"),
                                         to: folder.appendingPathComponent("config.json"))
        var header: [String: Any] = [:]
        var body = Data()
        for (key, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            header[key] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [body.count, body.count + tensor.bytes.count]]
            body.append(tensor.bytes)
        }
        let json = try JSONSerialization.data(withJSONObject: header)
        var file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        file.append(json)
        file.append(body)
        try file.write(to: folder.appendingPathComponent("model.safetensors"))
        return folder
    }

    static func load(folder: URL) throws -> LlamaCPUModel {
        let hf = try HFModelFolder(path: folder.path)
        let config = try ModelConfig(huggingFace: hf.config, source: hf.configPath)
        let weights = try LlamaWeights(store: try hf.openWeights(), config: config, naming: .huggingFace)
        return try LlamaCPUModel(config: config, weights: weights, pool: CPUThreadPool(threads: 2), blockCount: 32, blockSize: 4)
    }

    /// A checkpoint missing one expert's tensor fails at load, naming the tensor.
    @Test func missingExpertTensorIsNamed() throws {
        var tensors = try Self.tensors(of: "tiny-qwen3-moe")
        let missing = "model.layers.2.mlp.experts.5.up_proj.weight"
        let removed = tensors.removeValue(forKey: missing)
        #expect(removed != nil)
        let folder = try Self.folder(config: "tiny-qwen3-moe", tensors: tensors)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect { try Self.load(folder: folder) } throws: {
            ($0 as? ModelLoadError)?.kind == .missingTensor && "\($0)".contains(missing)
        }
    }

    /// transformers 5's in-memory layout, stacked per layer (`mlp.experts.gate_up_proj`
    /// [E, 2·I, H], `mlp.experts.down_proj` [E, H, I]), as some checkpoints store it: the same
    /// logits as the per-expert tensors.
    @Test func stackedExpertTensorsAreRead() throws {
        let reference = try #require(Self.references["tiny-qwen3-moe"])
        var tensors = try Self.tensors(of: "tiny-qwen3-moe")
        for layer in [0, 2] {
            let p = "model.layers.\(layer).mlp.experts"
            var gateUp = Data(), down = Data()
            func take(_ name: String) throws -> Data {
                let tensor = tensors.removeValue(forKey: name)
                return try #require(tensor, "no \(name)").bytes
            }
            for e in 0..<8 {
                gateUp.append(try take("\(p).\(e).gate_proj.weight"))
                gateUp.append(try take("\(p).\(e).up_proj.weight"))
                down.append(try take("\(p).\(e).down_proj.weight"))
            }
            tensors["\(p).gate_up_proj"] = ("F16", [8, 64, 64], gateUp)
            tensors["\(p).down_proj"] = ("F16", [8, 64, 32], down)
        }
        let folder = try Self.folder(config: "tiny-qwen3-moe", tensors: tensors)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.load(folder: folder)
        let logits = try TinyModelTests.teacherForced(model, tokens: reference.input_ids, chunks: [9, 1, 10])
        #expect(TinyModelTests.maxRelativeError(logits, reference.logits) < 1e-4)
    }

    // MARK: against transformers

    @Test(arguments: names)
    func logitsMatchTransformers(name: String) throws {
        let reference = try #require(Self.references[name])
        let model = try TinyModelTests.load(name)
        #expect(model.config.family == ModelFamily.resolve(architecture: reference.model_type))
        #expect(model.config.moe != nil)
        let whole = try TinyModelTests.teacherForced(model, tokens: reference.input_ids, chunks: [reference.input_ids.count])
        let error = TinyModelTests.maxRelativeError(whole, reference.logits)
        print("\(name): max |logit diff| \(TinyModelTests.maxAbsoluteError(whole, reference.logits)), relative \(error)")
        #expect(error < 1e-4)
        let chunked = try TinyModelTests.teacherForced(model, tokens: reference.input_ids, chunks: [7, 1, 1, 5, 6])
        #expect(TinyModelTests.maxRelativeError(chunked, reference.logits) < 1e-4)
    }

    /// The tiny models as llama.cpp's converter writes them (Mixtral as a `llama` GGUF with expert
    /// keys and Q/K permuted; `qwen3moe`, `qwen2moe` with ffn_*_shexp, `olmoe`), experts stacked
    /// [experts, rows, columns]: the same config and logits as from their HF folders.
    @Test(arguments: names)
    func ggufMatchesTransformers(name: String) throws {
        let reference = try #require(Self.references[name])
        let model = try TinyModelTests.loadGGUF(name)
        let hf = try TinyModelTests.load(name).config
        #expect(model.config.family == hf.family && model.config.moe == hf.moe)
        let chunked = try TinyModelTests.teacherForced(model, tokens: reference.input_ids, chunks: [7, 1, 1, 5, 6])
        #expect(TinyModelTests.maxRelativeError(chunked, reference.logits) < 1e-4)
    }

    /// Tiny Mixtral with every matrix but the routers in Q8_0, so each expert's view into the
    /// stacked tensors starts mid-tensor on a quantization-block boundary: against transformers
    /// on the same weights dequantized.
    @Test func quantizedStackedExpertsMatchTransformers() throws {
        let reference = try #require(Self.references["tiny-mixtral-q8_0"])
        let model = try TinyModelTests.loadGGUF("tiny-mixtral-q8_0")
        let experts = try #require(model.weights.layers[1].moe?.experts)
        #expect(experts.map(\.up.weight.dtype) == Array(repeating: .q8_0, count: 4))
        let chunked = try TinyModelTests.teacherForced(model, tokens: reference.input_ids, chunks: [7, 1, 1, 5, 6])
        let error = TinyModelTests.maxRelativeError(chunked, reference.logits)
        print("tiny-mixtral-q8_0: max |logit diff| \(TinyModelTests.maxAbsoluteError(chunked, reference.logits)), relative \(error)")
        #expect(error < 1e-4)
    }

    /// Several sequences in one batch share the experts' grouped matmuls: three prompts (prefixes
    /// of the reference input, so each position's logits are known) prefilled together, then
    /// decoded together for several steps, each row against transformers.
    @Test(arguments: names)
    func batchedSequencesMatchTransformers(name: String) throws {
        let reference = try #require(Self.references[name])
        let (lengths, worst) = try Self.batchedDecodeError(try TinyModelTests.load(name, blockSize: 4), reference)
        #expect(lengths == [8, 13, 10])
        #expect(worst < 1e-4)
    }

    /// Prompts of 3, 8 and 5 tokens of the reference input prefilled in one ragged batch, then
    /// five decode steps of all three together through the paged cache: the sequences' final
    /// lengths and the largest relative error of any row against the reference's logits.
    static func batchedDecodeError(_ model: LlamaCPUModel, _ reference: TinyModelTests.Reference) throws
        -> (lengths: [Int], worst: Float)
    {
        let tokens = reference.input_ids
        let prompts = [3, 8, 5]
        let pages: [[Int32]] = [[4, 9, 1, 13, 20], [2, 7, 11, 3, 25], [6, 14, 30, 8, 17]]
        var lengths = [0, 0, 0]
        var batch = ForwardBatch()
        var worst: Float = 0
        for step in 0..<6 {
            batch.reset(maxBlocksPerSequence: 5)
            var rows: [(sequence: Int, position: Int)] = []
            for s in 0..<3 {
                let end = step == 0 ? prompts[s] : lengths[s] + 1
                let needed = (end + model.blockSize - 1) / model.blockSize
                batch.append(tokens: tokens[lengths[s] ..< end], start: lengths[s], blocks: pages[s].prefix(needed),
                             blockSize: model.blockSize, wantsLogits: false)
                for position in lengths[s] ..< end { rows.append((s, position)) }
                lengths[s] = end
            }
            batch.logitsIndices = (0..<Int32(rows.count)).map { $0 }
            let logits = try model.execute(batch)
            let vocabulary = model.config.vocabularySize
            for (row, entry) in rows.enumerated() {
                let actual = Array(logits[row * vocabulary ..< (row + 1) * vocabulary])
                worst = max(worst, TinyModelTests.maxRelativeError([actual], [reference.logits[entry.position]]))
            }
        }
        return (lengths, worst)
    }

    /// The CPU model holds each sparse layer's experts as a list of per-expert matrices.
    @Test func expertsAreLoadedPerLayer() throws {
        let model = try TinyModelTests.load("tiny-qwen3-moe")
        let layers = model.weights.layers
        #expect(layers.map { $0.moe != nil } == [true, false, true])
        #expect(layers.map { $0.mlp != nil } == [false, true, false])
        #expect(layers[0].moe?.experts.count == 8 && layers[0].moe?.experts[7].down.weight.shape == [64, 32])
        #expect(layers[0].moe?.sharedExpert == nil)
        let qwen2 = try TinyModelTests.load("tiny-qwen2-moe").weights.layers
        #expect(qwen2[0].mlp != nil && qwen2[1].moe?.sharedExpert?.up.weight.shape == [48, 64])
        #expect(qwen2[1].moe?.sharedGate?.shape == [1, 64])
        let olmoe = try TinyModelTests.load("tiny-olmoe").weights.layers
        #expect(olmoe[0].queryNorm?.count == 64 && olmoe[0].keyNorm?.count == 32)
    }
}
