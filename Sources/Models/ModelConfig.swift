import Foundation
import ModelLoading

/// How rotary position embeddings pair up the dimensions of a head.
public enum RoPEStyle: Sendable, Equatable {
    /// Pairs (i, i + rotaryDim/2): HF's `rotate_half`, and GGUF files that were not permuted.
    case neox
    /// Pairs (2i, 2i + 1): llama.cpp's "normal" RoPE, which `llama` GGUF files need because
    /// the converter permuted the rows of their Q and K weights.
    case interleaved
}

/// Frequency scaling of RoPE for long contexts.
public enum RoPEScaling: Sendable, Equatable {
    case none
    case linear(factor: Double)
    /// Llama 3.1's piecewise scaling.
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double,
                originalMaxPositions: Int)
    /// YaRN (gpt-oss, Qwen's long-context configs): `RotaryEmbedding` blends interpolated and
    /// original frequencies; cos and sin are scaled by `attentionFactor`.
    case yarn(YaRN)
}

/// YaRN's parameters as transformers' `_compute_yarn_parameters` reads them.
public struct YaRN: Sendable, Equatable {
    /// The context stretch: interpolated frequencies are the original ones / factor.
    public var factor: Double
    /// Pairs turning more than `betaFast` times over the pretraining length keep their
    /// frequency; fewer than `betaSlow` times are interpolated; a linear ramp between.
    public var betaFast: Double
    public var betaSlow: Double
    public var originalMaxPositions: Int
    /// Round the ramp's ends outwards to whole pairs (transformers' default, true).
    public var truncate: Bool
    /// The factor on cos and sin (q·k carries its square): `attention_factor`, else from
    /// `mscale` / `mscale_all_dim`, else 0.1 · ln(factor) + 1.
    public var attentionFactor: Double

    public init(factor: Double, betaFast: Double = 32, betaSlow: Double = 1, originalMaxPositions: Int,
                truncate: Bool = true, attentionFactor: Double? = nil) {
        self.factor = factor
        self.betaFast = betaFast
        self.betaSlow = betaSlow
        self.originalMaxPositions = originalMaxPositions
        self.truncate = truncate
        self.attentionFactor = attentionFactor ?? Self.mscale(factor)
    }

    /// YaRN's `get_mscale`: 0.1 · mscale · ln(scale) + 1, or 1 for no stretch.
    public static func mscale(_ scale: Double, _ mscale: Double = 1) -> Double {
        scale <= 1 ? 1 : 0.1 * mscale * log(scale) + 1
    }
}

/// The shape and hyper-parameters of a decoder of one of the `ModelFamily` families, from an
/// HF `config.json` or from GGUF metadata.
public struct ModelConfig: Sendable, Equatable {
    public var family: ModelFamily
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Double
    public var ropeScaling: RoPEScaling
    public var ropeStyle: RoPEStyle
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    /// 0 = every layer attends to its whole context; else a sliding layer's query at position
    /// p sees the keys at p - slidingWindow + 1 ... p (HF's and llama.cpp's window).
    public var slidingWindow: Int
    public var bosTokenID: Int32?
    public var eosTokenIDs: [Int32]
    /// Per layer, whether it is a sliding-window (local) layer; empty = every layer is, when
    /// `slidingWindow` > 0 (Mistral). Gemma interleaves local and global layers.
    ///
    /// The paged KV cache keeps every block of a sequence for every layer: a global layer
    /// needs them all, and the pages are shared by all layers, so the local layers only skip
    /// reading keys outside their window. Blocks that fell out of every layer's window could
    /// be freed only if no layer were global (all-sliding models such as Mistral); Tern does
    /// not free them early in either case.
    public var slidingWindowLayers: [Bool] = []
    /// RoPE base of the sliding layers where it differs from `ropeTheta` (Gemma 3's local
    /// layers, 10000, unscaled); nil = every layer uses `ropeTheta` and `ropeScaling`.
    public var localRopeTheta: Double? = nil
    /// Attention scores are q·k / √queryPreAttentionScalar; nil = / √headDim (Gemma sets it).
    public var queryPreAttentionScalar: Double? = nil
    /// Phi-3's LongRoPE (its factors replace `ropeScaling`), else nil.
    public var longRoPE: LongRoPE? = nil
    /// If > 0, attention scores become tanh(s / cap) · cap before the softmax (Gemma 2).
    public var attentionLogitSoftcap: Float = 0
    /// If > 0, the output logits become tanh(x / cap) · cap (Gemma 2).
    public var finalLogitSoftcap: Float = 0
    /// The expert layers of a mixture-of-experts family; nil for a dense model.
    public var moe: MoEConfig? = nil
    /// The checkpoint's own quantization (`quantization_config`), nil for plain weights.
    public var checkpointQuantization: CheckpointQuantization? = nil

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }

    /// The sliding window of `layer`, 0 for a layer that sees its whole context.
    public func slidingWindow(layer: Int) -> Int {
        slidingWindowLayers.isEmpty || slidingWindowLayers[layer] ? slidingWindow : 0
    }

    /// Whether `layer` takes the local RoPE base (`localRopeTheta`).
    public func usesLocalRope(layer: Int) -> Bool {
        localRopeTheta != nil && slidingWindow(layer: layer) > 0
    }

    /// The factor on the token embeddings: √hidden for Gemma (transformers multiplies by it cast
    /// to the activations' type, float32 here), else 1.
    public var embeddingScale: Float { family.isGemma ? Float(Double(hiddenSize).squareRoot()) : 1 }

    /// The factor on q·k: `query_pre_attn_scalar ** -0.5` as transformers computes it (in
    /// double, then float), else 1/√headDim; times LongRoPE's or YaRN's attention factor
    /// squared (it scales the cos and sin that rotate both q and k).
    public var attentionScale: Float {
        let base = queryPreAttentionScalar.map { Float(1 / $0.squareRoot()) } ?? 1 / Float(headDim).squareRoot()
        let factor = longRoPE?.attentionFactor ?? yarnAttentionFactor
        return factor == 1 ? base : base * Float(factor * factor)
    }

    /// YaRN's factor on cos and sin, 1 without YaRN.
    var yarnAttentionFactor: Double {
        if case .yarn(let yarn) = ropeScaling { return yarn.attentionFactor }
        return 1
    }

    /// Checks the numbers against each other, so a bad config fails at load, not mid-forward.
    public func validate(source: String) throws {
        func fail(_ message: String) -> ModelConfigError { ModelConfigError(source: source, message: message) }
        for (name, value) in [("vocab_size", vocabularySize), ("hidden_size", hiddenSize),
                              ("intermediate_size", intermediateSize), ("num_hidden_layers", layerCount),
                              ("num_attention_heads", headCount), ("num_key_value_heads", kvHeadCount),
                              ("head_dim", headDim)] where value <= 0 {
            throw fail("\(name) must be positive, got \(value)")
        }
        if headCount % kvHeadCount != 0 {
            throw fail("num_attention_heads (\(headCount)) is not a multiple of num_key_value_heads (\(kvHeadCount))")
        }
        // Upper bounds far above any real model, so that no product of two sizes (a weight's
        // element count, a KV page) overflows and every size fits the kernels' Int32 arguments.
        for (name, value, limit) in [("vocab_size", vocabularySize, 1 << 24), ("hidden_size", hiddenSize, 1 << 20),
                                     ("intermediate_size", intermediateSize, 1 << 22),
                                     ("num_hidden_layers", layerCount, 1 << 12),
                                     ("num_attention_heads", headCount, 1 << 12),
                                     ("num_key_value_heads", kvHeadCount, 1 << 12), ("head_dim", headDim, 1 << 12),
                                     ("max_position_embeddings", maxPositionEmbeddings, Int(Int32.max)),
                                     ("sliding_window", slidingWindow, Int(Int32.max))] where value > limit {
            throw fail("\(name) is \(value), beyond the largest Tern takes (\(limit))")
        }
        if maxPositionEmbeddings < 1 { throw fail("max_position_embeddings must be positive, got \(maxPositionEmbeddings)") }
        if slidingWindow < 0 { throw fail("sliding_window must be >= 0, got \(slidingWindow)") }
        if headCount % kvHeadCount != 0 {
            throw fail("num_attention_heads (\(headCount)) is not a multiple of num_key_value_heads (\(kvHeadCount))")
        }
        if headDim % 2 != 0 { throw fail("head_dim must be even for RoPE, got \(headDim)") }
        if !slidingWindowLayers.isEmpty && slidingWindowLayers.count != layerCount {
            throw fail("\(slidingWindowLayers.count) layer types given for \(layerCount) layers")
        }
        if let longRoPE {
            if longRoPE.shortFactors.count != headDim / 2 || longRoPE.longFactors.count != headDim / 2 {
                throw fail("longrope needs head_dim / 2 = \(headDim / 2) short and long factors")
            }
            if !(longRoPE.shortFactors + longRoPE.longFactors).allSatisfy({ $0 > 0 && $0.isFinite }) {
                throw fail("longrope factors must be positive")
            }
            if longRoPE.originalMaxPositions < 1 || !(longRoPE.attentionFactor > 0 && longRoPE.attentionFactor.isFinite) {
                throw fail("longrope needs a positive original_max_position_embeddings and attention factor")
            }
        }
        if let localRopeTheta, !(localRopeTheta > 0 && localRopeTheta.isFinite) {
            throw fail("local rope theta must be positive, got \(localRopeTheta)")
        }
        if let scalar = queryPreAttentionScalar, !(scalar > 0 && scalar.isFinite) {
            throw fail("query_pre_attn_scalar must be positive, got \(scalar)")
        }
        for (name, cap) in [("attn_logit_softcapping", attentionLogitSoftcap),
                            ("final_logit_softcapping", finalLogitSoftcap)] where !(cap >= 0 && cap.isFinite) {
            throw fail("\(name) must be positive or absent, got \(cap)")
        }
        if family.isMixtureOfExperts != (moe != nil) {
            throw fail(moe == nil ? "\(family) needs its expert fields" : "\(family) is not a mixture-of-experts family")
        }
        try moe?.validate(layerCount: layerCount, fail: fail)
        if !(rmsNormEpsilon > 0 && rmsNormEpsilon.isFinite) {
            throw fail("rms_norm_eps must be positive, got \(rmsNormEpsilon)")
        }
        if !(ropeTheta > 0 && ropeTheta.isFinite) { throw fail("rope_theta must be positive, got \(ropeTheta)") }
        switch ropeScaling {
        case .none:
            break
        case .linear(let factor):
            if !(factor > 0 && factor.isFinite) { throw fail("rope scaling factor must be positive, got \(factor)") }
        case .llama3(let factor, let low, let high, let original):
            for (name, value) in [("factor", factor), ("low_freq_factor", low), ("high_freq_factor", high)]
            where !(value > 0 && value.isFinite) {
                throw fail("rope scaling \(name) must be positive, got \(value)")
            }
            if high <= low { throw fail("rope scaling high_freq_factor (\(high)) must exceed low_freq_factor (\(low))") }
            if original < 1 { throw fail("rope scaling original_max_position_embeddings must be positive, got \(original)") }
        case .yarn(let yarn):
            for (name, value) in [("factor", yarn.factor), ("beta_fast", yarn.betaFast), ("beta_slow", yarn.betaSlow),
                                  ("attention_factor", yarn.attentionFactor)] where !(value > 0 && value.isFinite) {
                throw fail("yarn rope scaling \(name) must be positive, got \(value)")
            }
            if yarn.originalMaxPositions < 1 {
                throw fail("yarn rope scaling original_max_position_embeddings must be positive, got \(yarn.originalMaxPositions)")
            }
        }
    }

    /// Token ids from a config, each checked against the vocabulary before it becomes an Int32.
    /// - Parameter key: the field the ids come from, for the message.
    static func tokenIDs(_ values: [Int], key: String, vocabularySize: Int, source: String) throws -> [Int32] {
        try values.map { value in
            guard value >= 0, value < vocabularySize, let id = Int32(exactly: value) else {
                throw ModelConfigError(source: source, message: "\(key) is \(value), outside the vocabulary (0..<\(vocabularySize))")
            }
            return id
        }
    }
}

/// A config that cannot describe a model Tern runs.
public struct ModelConfigError: Error, CustomStringConvertible {
    public let source: String
    public let message: String
    public var description: String { "\(source): \(message)" }
}
