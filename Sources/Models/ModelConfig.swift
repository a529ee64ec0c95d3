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
}

/// The shape and hyper-parameters of a Llama-family decoder, from an HF `config.json` or
/// from GGUF metadata.
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
    /// 0 = every layer attends to its whole context.
    public var slidingWindow: Int
    public var bosTokenID: Int32?
    public var eosTokenIDs: [Int32]

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }

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
        if headDim % 2 != 0 { throw fail("head_dim must be even for RoPE, got \(headDim)") }
        if !(rmsNormEpsilon > 0) { throw fail("rms_norm_eps must be positive, got \(rmsNormEpsilon)") }
        if !(ropeTheta > 0) { throw fail("rope_theta must be positive, got \(ropeTheta)") }
    }
}

/// A config that cannot describe a model Tern runs.
public struct ModelConfigError: Error, CustomStringConvertible {
    public let source: String
    public let message: String
    public var description: String { "\(source): \(message)" }
}
