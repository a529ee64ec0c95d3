import Foundation

/// The inverse frequencies of rotary position embeddings, one per rotated pair:
/// `angle(position, i) = position * inverseFrequencies[i]`.
///
/// Computed in Float like transformers (`1 / base^(2i/d)` in float32), so that positions
/// come out the same as in the reference; scaling is applied here once, not per token.
public struct RotaryEmbedding: Sendable, Equatable {
    public let rotaryDim: Int
    public let style: RoPEStyle
    /// [rotaryDim / 2]
    public let inverseFrequencies: [Float]

    public init(rotaryDim: Int, theta: Double, scaling: RoPEScaling, style: RoPEStyle,
                frequencyFactors: [Float]? = nil) {
        self.rotaryDim = rotaryDim
        self.style = style
        let half = rotaryDim / 2
        var frequencies = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(rotaryDim)
            return 1 / Float(pow(theta, Double(exponent)))
        }
        switch scaling {
        case .none:
            break
        case .linear(let factor):
            frequencies = frequencies.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            frequencies = frequencies.map {
                Self.llama3Scaled($0, factor: Float(factor), low: Float(low), high: Float(high),
                                  original: Float(original))
            }
        }
        // GGUF Llama 3.1 files carry the scaling as per-pair divisors (`rope_freqs.weight`).
        if let frequencyFactors {
            frequencies = zip(frequencies, frequencyFactors).map { $0 / $1 }
        }
        inverseFrequencies = frequencies
    }

    /// Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, and the band
    /// between the two blended smoothly (transformers' `_compute_llama3_parameters`).
    private static func llama3Scaled(_ frequency: Float, factor: Float, low: Float, high: Float,
                                     original: Float) -> Float {
        let wavelength = 2 * Float.pi / frequency
        let lowFrequencyWavelength = original / low
        let highFrequencyWavelength = original / high
        if wavelength > lowFrequencyWavelength { return frequency / factor }
        if wavelength < highFrequencyWavelength { return frequency }
        let smooth = (original / wavelength - low) / (high - low)
        return (1 - smooth) * frequency / factor + smooth * frequency
    }
}

extension ModelConfig {
    /// The RoPE of the global layers (of every layer, unless `localRotaryEmbedding` is set):
    /// `ropeScaling`, and per-pair divisors (a GGUF Llama 3.1's `frequencyFactors`, or LongRoPE's
    /// short factors, which take their place).
    public func rotaryEmbedding(frequencyFactors: [Float]?) -> RotaryEmbedding {
        RotaryEmbedding(rotaryDim: headDim, theta: ropeTheta, scaling: ropeScaling, style: ropeStyle,
                        frequencyFactors: longRoPE?.shortFactors ?? frequencyFactors)
    }

    /// The RoPE of the sliding-window layers where their base differs (Gemma 3), unscaled.
    public var localRotaryEmbedding: RotaryEmbedding? {
        localRopeTheta.map { RotaryEmbedding(rotaryDim: headDim, theta: $0, scaling: .none, style: ropeStyle) }
    }

    /// LongRoPE's rotation with its long factors (Phi-3), else nil.
    public var longRotaryEmbedding: RotaryEmbedding? {
        longRoPE.map {
            RotaryEmbedding(rotaryDim: headDim, theta: ropeTheta, scaling: .none, style: ropeStyle,
                            frequencyFactors: $0.longFactors)
        }
    }
}
