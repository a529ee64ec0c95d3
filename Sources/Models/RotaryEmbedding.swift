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
        // base^(2i/d), the denominators, as transformers computes them in float32.
        let powers = (0..<half).map { i -> Float in Float(pow(theta, Double(Float(2 * i) / Float(rotaryDim)))) }
        var frequencies = powers.map { 1 / $0 }
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
        case .yarn(let yarn):
            frequencies = Self.yarnFrequencies(powers: powers, yarn: yarn, theta: theta, rotaryDim: rotaryDim)
        }
        // GGUF Llama 3.1 files carry the scaling as per-pair divisors (`rope_freqs.weight`).
        if let frequencyFactors {
            frequencies = zip(frequencies, frequencyFactors).map { $0 / $1 }
        }
        inverseFrequencies = frequencies
    }

    /// YaRN (transformers' `_compute_yarn_parameters`): pair i's frequency blends the
    /// interpolated 1 / (factor · base^(2i/d)) and the original 1 / base^(2i/d) by a ramp that is
    /// 0 (interpolate) for pairs turning fewer than `betaSlow` times over the pretraining length
    /// and 1 (keep) for those turning more than `betaFast` times. The correction range is found in
    /// Double, the blend done in Float, as there.
    private static func yarnFrequencies(powers: [Float], yarn: YaRN, theta: Double, rotaryDim: Int) -> [Float] {
        let dim = Double(rotaryDim)
        // The (fractional) pair index at which a pair turns `rotations` times over the pretraining length.
        func correctionDim(_ rotations: Double) -> Double {
            dim * log(Double(yarn.originalMaxPositions) / (rotations * 2 * Double.pi)) / (2 * log(theta))
        }
        var low = correctionDim(yarn.betaFast), high = correctionDim(yarn.betaSlow)
        if yarn.truncate {
            low = low.rounded(.down)
            high = high.rounded(.up)
        }
        low = max(low, 0)
        high = min(high, dim - 1)
        if low == high { high += 0.001 }  // transformers' guard against a zero-width ramp
        let factor = Float(yarn.factor)
        return powers.enumerated().map { i, power in
            let ramp = min(max((Float(i) - Float(low)) / Float(high - low), 0), 1)
            let keep = 1 - ramp  // transformers' inv_freq_extrapolation_factor
            return 1 / (factor * power) * (1 - keep) + 1 / power * keep
        }
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
