import Foundation
import ModelLoading

/// Phi-3's LongRoPE: each rotated pair's frequency divided by a factor of its own, one set for
/// contexts up to the pretraining length and one beyond it, and cos/sin scaled by
/// `attentionFactor`.
///
/// transformers picks the set from the longest position of a forward pass (long once a pass
/// reaches past `originalMaxPositions`); Tern picks it per sequence and step the same way, so
/// a prompt run in one step, and every decode, rotate as in transformers. A prompt that
/// crosses the boundary in several chunks (or reuses cached blocks) keeps its earlier chunks'
/// short rotation, as transformers keeps its cached keys'.
public struct LongRoPE: Sendable, Equatable {
    public var shortFactors: [Float]
    public var longFactors: [Float]
    public var originalMaxPositions: Int
    /// The factor on cos and sin; q·k carries its square.
    public var attentionFactor: Double

    /// LongRoPE's factor on cos and sin when the checkpoint gives none: √(1 + ln f / ln L₀) for
    /// a context stretched f times past the pretraining length L₀ (1 if not stretched).
    public static func defaultAttentionFactor(stretch factor: Double, originalMaxPositions original: Int) -> Double {
        factor <= 1 || original <= 1 ? 1 : (1 + log(factor) / log(Double(original))).squareRoot()
    }

    /// Whether a sequence whose longest position in a step is `position` takes the long factors.
    public func usesLongFactors(maxPosition position: Int) -> Bool { position + 1 > originalMaxPositions }
}

extension ModelConfig {
    /// Phi-3's fields of an HF `config.json`: LongRoPE (`rope_scaling` / `rope_parameters` of type
    /// longrope, or its old names su and yarn) and the sliding window transformers applies.
    mutating func readPhi3(huggingFace config: JSONValue, fail: (String) -> ModelConfigError) throws {
        let activation = config["hidden_act"]?.string ?? "silu"
        guard activation == "silu" else { throw fail("hidden_act '\(activation)' is not the SiLU Tern runs for Phi-3") }
        let rope = config["rope_parameters"] ?? config["rope_scaling"]
        if let partial = rope?["partial_rotary_factor"]?.double ?? config["partial_rotary_factor"]?.double, partial != 1 {
            throw fail("partial_rotary_factor \(partial): Tern runs RoPE over the whole head")
        }
        slidingWindow = config["sliding_window"]?.int ?? 0
        guard let rope, !rope.isNull else { return }
        let type = rope["rope_type"]?.string ?? rope["type"]?.string ?? "default"
        switch type {
        case "default":
            return
        case "longrope", "su", "yarn":
            break
        default:
            throw fail("unsupported rope scaling type '\(type)' for Phi-3 (Tern supports default and longrope)")
        }
        func factors(_ key: String) throws -> [Float] {
            guard let values = rope[key]?.array?.compactMap(\.double), values.count == headDim / 2 else {
                throw fail("longrope '\(key)' must be a list of \(headDim / 2) numbers (head_dim / 2)")
            }
            return values.map(Float.init)
        }
        guard let original = rope["original_max_position_embeddings"]?.int ?? config["original_max_position_embeddings"]?.int
        else { throw fail("longrope needs original_max_position_embeddings") }
        let factor = rope["factor"]?.double ?? Double(maxPositionEmbeddings) / Double(max(original, 1))
        let attentionFactor = rope["attention_factor"]?.double
            ?? LongRoPE.defaultAttentionFactor(stretch: factor, originalMaxPositions: original)
        longRoPE = LongRoPE(shortFactors: try factors("short_factor"), longFactors: try factors("long_factor"),
                            originalMaxPositions: original, attentionFactor: attentionFactor)
    }

    /// Phi-3's keys of a GGUF file: llama.cpp's converter writes the LongRoPE factors as the
    /// tensors `rope_factors_short` / `rope_factors_long` and the cos/sin factor and pretraining
    /// length as `phi3.rope.scaling.attn_factor` / `.original_context_length`.
    mutating func readPhi3(gguf file: GGUFFile, fail: (String) -> ModelConfigError) throws {
        guard file.contains("rope_factors_long.weight") || file.contains("rope_factors_short.weight") else { return }
        func factors(_ name: String) throws -> [Float] {
            let tensor = try file.tensor(name, shape: [headDim / 2])
            return try LlamaWeights.floats(tensor, source: file.path)
        }
        guard let original = file.metadata["phi3.rope.scaling.original_context_length"]?.int else {
            throw fail("LongRoPE factors without 'phi3.rope.scaling.original_context_length'")
        }
        let factor = Double(maxPositionEmbeddings) / Double(max(original, 1))
        let attentionFactor = file.metadata["phi3.rope.scaling.attn_factor"]?.double
            ?? LongRoPE.defaultAttentionFactor(stretch: factor, originalMaxPositions: original)
        longRoPE = LongRoPE(shortFactors: try factors("rope_factors_short.weight"),
                            longFactors: try factors("rope_factors_long.weight"),
                            originalMaxPositions: original, attentionFactor: attentionFactor)
    }
}
