import Foundation
import ModelLoading
import Models
import Testing

/// gpt-oss: its config fields and defaults, YaRN against transformers' frequencies, malformed
/// configs and checkpoints, and the tiny random gpt-oss folder (attention sinks, Q/K/V/O biases,
/// sliding and full layers, YaRN, biased experts with the clamped SwiGLU) against transformers.
@Suite struct GptOssTests {
    static let reference: TinyModelTests.Reference = {
        let data = try! Data(contentsOf: TinyModelTests.fixtures.appendingPathComponent("tiny_gpt_oss_reference.json"))
        return try! JSONDecoder().decode([String: TinyModelTests.Reference].self, from: data)["tiny-gpt-oss"]!
    }()

    func config(_ json: String) throws -> ModelConfig {
        try ModelConfig(huggingFace: try JSONValue(parsing: json), source: "config.json")
    }

    let base = #""hidden_size": 64, "intermediate_size": 16, "num_hidden_layers": 4, "max_position_embeddings": 256, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 128"#

    // MARK: config

    @Test func readsTheTinyConfig() throws {
        let c = try TinyModelTests.load("tiny-gpt-oss").config
        #expect(c.family == .gptOss && c.family.hasQKVBias && c.family.hasOutputBias && c.family.hasAttentionSinks)
        #expect(c.slidingWindow == 6 && c.slidingWindowLayers == [true, false])
        var experts = MoEConfig(expertCount: 4, expertsPerToken: 2, expertIntermediateSize: 16, normalizeTopK: true,
                                sparseLayers: [true, true])
        experts.expertActivation = .clampedSwiGLU(alpha: 1.702, limit: 0.6)
        #expect(c.moe == experts)
        #expect(c.ropeTheta == 1000 && c.rmsNormEpsilon == 1e-6)
        #expect(c.ropeScaling == .yarn(YaRN(factor: 4, betaFast: 8, betaSlow: 1, originalMaxPositions: 64, truncate: false)))
        // YaRN's cos/sin factor 0.1 · ln 4 + 1 enters q·k squared.
        let factor = 0.1 * log(4.0) + 1
        #expect(abs(c.attentionScale - Float(0.25 * factor * factor)) < 1e-7)
    }

    /// `GptOssConfig`'s defaults where keys are absent: gpt-oss-20b's.
    @Test func absentKeysTakeTransformersDefaults() throws {
        let c = try config(#"{"model_type": "gpt_oss", \#(base.replacingOccurrences(of: #""max_position_embeddings": 256, "#, with: ""))}"#)
        #expect(c.ropeTheta == 150_000 && c.rmsNormEpsilon == 1e-5 && c.maxPositionEmbeddings == 131_072)
        #expect(c.ropeScaling == .yarn(YaRN(factor: 32, betaFast: 32, betaSlow: 1, originalMaxPositions: 4096, truncate: false)))
        #expect(c.slidingWindow == 128 && c.slidingWindowLayers == [true, false, true, false])
        #expect(c.moe?.expertCount == 128 && c.moe?.expertsPerToken == 4 && c.moe?.normalizeTopK == true)
        #expect(c.moe?.expertActivation == .clampedSwiGLU(alpha: 1.702, limit: 7))
    }

    @Test func malformedConfigsAreNamed() {
        let cases: [(String, String)] = [
            (#""attention_bias": false"#, "attention_bias"),
            (#""quantization_config": {"quant_method": "mxfp4"}"#, "MXFP4"),
            (#""layer_types": ["sliding_attention", "chunked_attention", "full_attention", "full_attention"]"#, "chunked_attention"),
            (#""layer_types": ["full_attention"]"#, "1 layer types given for 4 layers"),
            (#""swiglu_limit": 0"#, "swiglu_limit"),
            (#""num_local_experts": 2, "num_experts_per_tok": 3"#, "num_experts_per_tok is 3"),
            (#""rope_parameters": {"rope_type": "yarn", "rope_theta": 150000, "factor": "x"}"#, "'factor'"),
            (#""rope_parameters": {"rope_type": "yarn", "rope_theta": 150000, "factor": 4, "partial_rotary_factor": 0.5}"#, "partial_rotary_factor"),
        ]
        for (fields, message) in cases {
            #expect { try config(#"{"model_type": "gpt_oss", \#(base), \#(fields)}"#) } throws: {
                "\($0)".contains("config.json") && "\($0)".contains(message)
            }
        }
    }

    /// A Qwen-style YaRN config (old `rope_scaling` key, truncated ramp by default): the inverse
    /// frequencies and attention factor of transformers' `_compute_yarn_parameters`.
    @Test func yarnMatchesTransformers() throws {
        let c = try config(#"{"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 128, "max_position_embeddings": 131072, "rope_theta": 1000000.0, "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}"#)
        #expect(c.ropeScaling == .yarn(YaRN(factor: 4, originalMaxPositions: 32768)))
        let expected: [Float] = [1.0, 0.17782793939113617, 0.03162277862429619, 0.004217559937387705, 0.0005000000237487257,
                                 4.4456985051510856e-05, 7.905693564680405e-06, 1.405853367941745e-06]
        let actual = c.rotaryEmbedding(frequencyFactors: nil).inverseFrequencies
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) { #expect(abs(a - e) <= 1e-6 * e, "\(a) vs \(e)") }
        let factor = 1.138629436111989
        #expect(abs(c.attentionScale - Float(0.25 * factor * factor)) < 1e-7)
    }

    // MARK: checkpoints

    @Test func weightsAreLoadedInTheirLayout() throws {
        let layers = try TinyModelTests.load("tiny-gpt-oss").weights.layers
        #expect(layers.map { $0.attentionSinks?.count } == [4, 4])
        #expect(layers[0].output.bias?.count == 64 && layers[0].query.bias?.count == 64 && layers[0].key.bias?.count == 32)
        let moe = try #require(layers[1].moe)
        #expect(moe.routerBias?.count == 4 && moe.experts.count == 4 && moe.sharedExpert == nil)
        #expect(moe.experts[3].gate.weight.shape == [16, 64] && moe.experts[3].up.weight.shape == [16, 64])
        #expect(moe.experts[3].down.weight.shape == [64, 16] && moe.experts[3].down.bias?.count == 64)
        #expect(moe.experts[3].gate.bias?.count == 16 && moe.experts[3].up.bias?.count == 16)
    }

    /// Gate and up come from the even and odd columns of the transposed `gate_up_proj`: expert
    /// 2's gate row 5 is column 10 and its up row 5 column 11, their biases likewise.
    @Test func interleavedGateAndUpAreSeparated() throws {
        let tensors = try MoETests.tensors(of: "tiny-gpt-oss")
        let stacked = try #require(tensors["model.layers.0.mlp.experts.gate_up_proj"])
        #expect(stacked.dtype == "BF16" && stacked.shape == [4, 64, 32])
        func bf16(_ data: Data, _ index: Int) -> Float {
            let bits = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self) }
            return Float(bitPattern: UInt32(bits) << 16)
        }
        let expert = try #require(TinyModelTests.load("tiny-gpt-oss").weights.layers[0].moe?.experts[2])
        func row(_ linear: Linear, _ r: Int) -> [Float] {
            (0..<64).map { h in
                let bits = linear.weight.bytes.loadUnaligned(fromByteOffset: 2 * (r * 64 + h), as: UInt16.self)
                return Float(bitPattern: UInt32(bits) << 16)
            }
        }
        #expect(row(expert.gate, 5) == (0..<64).map { h in bf16(stacked.bytes, (2 * 64 + h) * 32 + 10) })
        #expect(row(expert.up, 5) == (0..<64).map { h in bf16(stacked.bytes, (2 * 64 + h) * 32 + 11) })
        let bias = try #require(tensors["model.layers.0.mlp.experts.gate_up_proj_bias"])
        #expect(expert.gate.bias?[5] == bf16(bias.bytes, 2 * 32 + 10) && expert.up.bias?[5] == bf16(bias.bytes, 2 * 32 + 11))
    }

    @Test func missingSinksAreNamed() throws {
        var tensors = try MoETests.tensors(of: "tiny-gpt-oss")
        let missing = "model.layers.1.self_attn.sinks"
        #expect(tensors.removeValue(forKey: missing) != nil)
        let folder = try MoETests.folder(config: "tiny-gpt-oss", tensors: tensors)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect { try MoETests.load(folder: folder) } throws: {
            ($0 as? ModelLoadError)?.kind == .missingTensor && "\($0)".contains(missing)
        }
    }

    /// Quantized (here: FP8-typed) expert tensors cannot be transposed exactly: refused by name.
    @Test func expertsOfOtherTypesAreRefused() throws {
        var tensors = try MoETests.tensors(of: "tiny-gpt-oss")
        let name = "model.layers.0.mlp.experts.down_proj"
        let down = try #require(tensors[name])
        tensors[name] = ("F8_E4M3", down.shape, down.bytes.prefix(down.bytes.count / 2))
        let folder = try MoETests.folder(config: "tiny-gpt-oss", tensors: tensors)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect { try MoETests.load(folder: folder) } throws: { "\($0)".contains(name) && "\($0)".contains("BF16") }
    }

    /// A GGUF file of llama.cpp's `gpt-oss` architecture (here only its header and that key).
    @Test func ggufIsRefusedByName() throws {
        var bytes = Data("GGUF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func append(_ text: String) {
            append(UInt64(text.utf8.count))
            bytes.append(contentsOf: text.utf8)
        }
        append(UInt32(3))                 // version
        append(UInt64(0))                 // tensors
        append(UInt64(1))                 // metadata keys
        append("general.architecture")
        append(UInt32(8))                 // string
        append("gpt-oss")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tern-gpt-oss-\(UUID().uuidString).gguf")
        try bytes.write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        #expect { try ModelConfig(gguf: try GGUFFile(path: path.path)) } throws: {
            "\($0)".contains("gpt-oss GGUF files are not supported")
        }
    }

    // MARK: against transformers

    @Test func logitsMatchTransformers() throws {
        let reference = Self.reference
        let model = try TinyModelTests.load("tiny-gpt-oss")
        #expect(model.config.family == ModelFamily.resolve(architecture: reference.model_type))
        let whole = try TinyModelTests.teacherForced(model, tokens: reference.input_ids, chunks: [reference.input_ids.count])
        let error = TinyModelTests.maxRelativeError(whole, reference.logits)
        print("tiny-gpt-oss: max |logit diff| \(TinyModelTests.maxAbsoluteError(whole, reference.logits)), relative \(error)")
        #expect(error < 1e-4)
        let chunked = try TinyModelTests.teacherForced(model, tokens: reference.input_ids, chunks: [7, 1, 1, 5, 6])
        let chunkedError = TinyModelTests.maxRelativeError(chunked, reference.logits)
        print("tiny-gpt-oss chunked: max |logit diff| \(TinyModelTests.maxAbsoluteError(chunked, reference.logits)), relative \(chunkedError)")
        #expect(chunkedError < 1e-4)
    }

    /// Three ragged prompts prefilled together, then decoded together past the 6-key window.
    @Test func batchedSequencesMatchTransformers() throws {
        let (lengths, worst) = try MoETests.batchedDecodeError(try TinyModelTests.load("tiny-gpt-oss", blockSize: 4),
                                                               Self.reference)
        print("tiny-gpt-oss batched decode: relative \(worst)")
        #expect(lengths == [8, 13, 10])
        #expect(worst < 1e-4)
    }
}
