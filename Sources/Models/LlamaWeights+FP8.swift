import Tensors

extension LlamaWeights {
    /// These weights with every FP8 linear layer (an FP8 checkpoint's) as an f32 copy, each
    /// e4m3 value times its row's scale: what the CPU backend, which has no FP8 kernels, runs.
    /// The product is the one HF computes when it dequantizes (f32 times f32), so the CPU checks
    /// an FP8 checkpoint exactly; it takes 4 bytes a weight. Other layers are left as they are.
    public func dequantizingFP8() -> LlamaWeights {
        var copies: [TensorBytes] = []
        func plain(_ linear: Linear) -> Linear {
            guard let scales = linear.weightScales, linear.weight.dtype == .f8e4m3 else { return linear }
            let (rows, columns) = (linear.outFeatures, linear.inFeatures)
            let owner = TensorBytes(count: rows * columns * 4)
            let out = owner.bytes.bindMemory(to: Float.self)
            let codes = linear.weight.bytes
            for row in 0..<rows {
                let scale = scales[row]
                for column in 0..<columns {
                    out[row * columns + column] = FP8.e4m3[Int(codes[row * columns + column])] * scale
                }
            }
            copies.append(owner)
            return Linear(weight: TensorData(name: linear.weight.name, dtype: .f32, shape: [rows, columns],
                                             bytes: UnsafeRawBufferPointer(owner.bytes)),
                          bias: linear.bias)
        }
        let plainLayers = layers.map { layer in
            var layer = layer
            layer.query = plain(layer.query)
            layer.key = plain(layer.key)
            layer.value = plain(layer.value)
            layer.output = plain(layer.output)
            layer.mlp = layer.mlp.map { MLPWeights(gate: plain($0.gate), up: plain($0.up), down: plain($0.down)) }
            return layer
        }
        guard !copies.isEmpty else { return self }
        return LlamaWeights(embedding: embedding, layers: plainLayers, finalNorm: finalNorm, lmHead: lmHead,
                            ropeFrequencyFactors: ropeFrequencyFactors, store: store, shardCopies: shardCopies + copies)
    }
}

/// FP8 number formats.
enum FP8 {
    /// The value of every e4m3 (OCP "fn": no infinities, S.1111.111 is NaN) byte: exponent bias
    /// 7, subnormals at exponent 0 (m / 8 · 2⁻⁶).
    static let e4m3: [Float] = (0..<256).map { code in
        let sign: Float = code & 0x80 != 0 ? -1 : 1
        let exponent = (code >> 3) & 0xf, mantissa = Float(code & 7)
        if exponent == 0xf && code & 7 == 7 { return .nan }
        if exponent == 0 { return sign * mantissa / 8 * Float(sign: .plus, exponent: -6, significand: 1) }
        return sign * (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
    }
}
