import CPUBackend
import Foundation
import ModelLoading
@testable import Models
import Tensors
import Testing

/// FP8 checkpoints (compressed-tensors float8, the "fp8" method): the config is read and
/// other quantization methods refused by name; the FP8 weights and their scales are paired
/// row by row; the CPU runs their values exactly (in f32), against transformers. Their GPU run is
/// checked by scripts/gpu/check.py against HF on the same weights.
@Suite("FP8 checkpoints")
struct FP8CheckpointTests {
    func config(_ quantization: String) throws -> ModelConfig {
        let json = #"{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 128, "quantization_config": \#(quantization)}"#
        return try ModelConfig(huggingFace: try JSONValue(parsing: json), source: "config.json")
    }

    static let compressedTensors = #"{"quant_method": "compressed-tensors", "format": "float-quantized", "ignore": ["lm_head"], "config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "float", "strategy": "channel", "symmetric": true, "dynamic": false}, "input_activations": {"num_bits": 8, "type": "float", "strategy": "token", "dynamic": true}}}}"#

    @Test func readsTheFP8Methods() throws {
        #expect(try config(Self.compressedTensors).checkpointQuantization == .fp8)
        #expect(try config(#"{"quant_method": "fp8", "activation_scheme": "dynamic"}"#).checkpointQuantization == .fp8)
        #expect(try config(#"{"quant_method": "fp8", "activation_scheme": "static", "weight_block_size": null}"#).checkpointQuantization == .fp8)
        #expect(try config("null").checkpointQuantization == nil)
    }

    @Test func otherMethodsAreRefusedByName() {
        let refused: [(String, String)] = [
            (#"{"quant_method": "awq", "bits": 4, "group_size": 128}"#, "'awq'"),
            (#"{"quant_method": "gptq", "bits": 4}"#, "'gptq'"),
            (#"{"quant_method": "fp8", "weight_block_size": [128, 128]}"#, "weight_block_size"),
            (#"{"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": {"num_bits": 4, "type": "int", "strategy": "group"}}}}"#, "4 bits, type int"),
            (#"{"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": {"num_bits": 8, "type": "float", "strategy": "block"}}}}"#, "strategy 'block'"),
            (#"{"quant_method": "compressed-tensors"}"#, "config_groups"),
            (#"{"bits": 4}"#, "quant_method"),
        ]
        for (json, named) in refused {
            #expect { _ = try config(json) } throws: { "\($0)".contains(named) }
        }
    }

    // MARK: weights

    /// tiny-llama3's tensors with every linear weight of layer 0 replaced by FP8 bytes (a
    /// pattern: row r holds byte r + column) and a weight_scale of `scaleShape` (per channel
    /// [rows, 1] holds 0.5 + r / 1000; per tensor, 0.25).
    static func fp8Folder(perChannel: Bool, withScales: Bool = true, quantizationConfig: Bool = true) throws -> URL {
        var tensors = try MoETests.tensors(of: "tiny-llama3")
        for name in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
                     "mlp.up_proj", "mlp.down_proj"] {
            let key = "model.layers.0.\(name).weight"
            let shape = try #require(tensors[key]).shape
            let (rows, columns) = (shape[0], shape[1])
            tensors[key] = ("F8_E4M3", shape, Data((0..<rows * columns).map { UInt8(truncatingIfNeeded: $0 / columns + $0 % columns) }))
            guard withScales else { continue }
            let scales: [Float] = perChannel ? (0..<rows).map { 0.5 + Float($0) / 1000 } : [0.25]
            tensors["model.layers.0.\(name).weight_scale"] = ("F32", perChannel ? [rows, 1] : [1],
                                                            scales.withUnsafeBytes { Data($0) })
        }
        let folder = try MoETests.folder(config: "tiny-llama3", tensors: tensors)
        if quantizationConfig {
            let url = folder.appendingPathComponent("config.json")
            var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            json["quantization_config"] = perChannel
                ? try JSONSerialization.jsonObject(with: Data(compressedTensors.utf8))
                : ["quant_method": "fp8", "activation_scheme": "dynamic"]
            try JSONSerialization.data(withJSONObject: json).write(to: url)
        }
        return folder
    }

    static func weights(_ folder: URL) throws -> LlamaWeights {
        let hf = try HFModelFolder(path: folder.path)
        let config = try ModelConfig(huggingFace: hf.config, source: hf.configPath)
        return try LlamaWeights(store: try hf.openWeights(), config: config, naming: .huggingFace)
    }

    @Test func perChannelScalesPairWithTheirRows() throws {
        let folder = try Self.fp8Folder(perChannel: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = try Self.weights(folder)
        let layer = weights.layers[0]
        let mlp = try #require(layer.mlp)
        for linear in [layer.query, layer.key, layer.value, layer.output, mlp.gate, mlp.up, mlp.down] {
            #expect(linear.weight.dtype == .f8e4m3)
            #expect(linear.weightScales == (0..<linear.outFeatures).map { 0.5 + Float($0) / 1000 })
            // The bytes are the file's: row r, column c holds r + c.
            let bytes = linear.weight.bytes
            #expect(bytes[3 * linear.inFeatures + 5] == 8)
        }
        // Layer 1 keeps its float weights and has no scales.
        #expect(weights.layers[1].query.weight.dtype == .f32 && weights.layers[1].query.weightScales == nil)
    }

    @Test func aPerTensorScaleCoversEveryRow() throws {
        let folder = try Self.fp8Folder(perChannel: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let down = try #require(try Self.weights(folder).layers[0].mlp?.down)
        #expect(down.weightScales == [Float](repeating: 0.25, count: down.outFeatures))
    }

    @Test func missingScalesAndConfigAreNamed() throws {
        let noScales = try Self.fp8Folder(perChannel: true, withScales: false)
        defer { try? FileManager.default.removeItem(at: noScales) }
        #expect { _ = try Self.weights(noScales) } throws: { "\($0)".contains("weight_scale") }
        let noConfig = try Self.fp8Folder(perChannel: true, quantizationConfig: false)
        defer { try? FileManager.default.removeItem(at: noConfig) }
        #expect { _ = try Self.weights(noConfig) } throws: { "\($0)".contains("no FP8 quantization_config") }
    }

    // MARK: against transformers

    /// tiny-llama3-fp8 (make_model_reference.py --fp8-only: compressed-tensors FP8-Dynamic,
    /// quantized by torch) on the CPU, whose FP8 layers run dequantized in f32, against
    /// transformers float32 on the values the checkpoint holds (e4m3 times scale), whole and
    /// through chunks and decodes.
    @Test func cpuLogitsMatchTransformersOnTheFP8Values() throws {
        let data = try Data(contentsOf: TinyModelTests.fixtures.appendingPathComponent("tiny_fp8_reference.json"))
        let reference = try #require(try JSONDecoder().decode([String: TinyModelTests.Reference].self, from: data)["tiny-llama3-fp8"])
        let weights = try Self.weights(TinyModelTests.fixtures.appendingPathComponent("tiny-llama3-fp8"))
        #expect(weights.layers[0].query.weight.dtype == .f8e4m3 && weights.layers[0].query.weightScales != nil)
        let plain = weights.dequantizingFP8()
        #expect(plain.layers.allSatisfy { $0.query.weight.dtype == .f32 && $0.mlp?.down.weight.dtype == .f32 })
        let hf = try HFModelFolder(path: TinyModelTests.fixtures.appendingPathComponent("tiny-llama3-fp8").path)
        let config = try ModelConfig(huggingFace: hf.config, source: hf.configPath)
        let model = try LlamaCPUModel(config: config, weights: plain, pool: CPUThreadPool(threads: 2), blockCount: 32,
                                      blockSize: 4)
        let tokens = reference.input_ids
        for chunks in [[tokens.count], [7, 1, 1, 5, 6]] {
            let logits = try TinyModelTests.teacherForced(model, tokens: tokens, chunks: chunks)
            #expect(TinyModelTests.maxRelativeError(logits, reference.logits) < 1e-4, "chunks \(chunks)")
        }
    }

    @Test func e4m3DecodesEveryCode() {
        // Normal, subnormal, the largest, negative zero and NaN, as float8_e4m3fn defines them.
        #expect(FP8.e4m3[0x38] == 1 && FP8.e4m3[0x39] == 1.125 && FP8.e4m3[0x7e] == 448 && FP8.e4m3[0xfe] == -448)
        #expect(FP8.e4m3[0x01] == 0x1p-9 && FP8.e4m3[0x07] == 7 * 0x1p-9 && FP8.e4m3[0x08] == 0x1p-6)
        #expect(FP8.e4m3[0x80] == 0 && FP8.e4m3[0x80].sign == .minus && FP8.e4m3[0x7f].isNaN && FP8.e4m3[0xff].isNaN)
        #expect(FP8.e4m3.filter(\.isNaN).count == 2)
    }
}
