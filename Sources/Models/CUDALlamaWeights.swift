import CTernKernels
import CUDABackend
import Foundation
import Logging
import Tensors

/// A Llama-family model's weights in device memory, bf16 (norms, biases in f32), the linear
/// layers optionally FP8 (`WeightQuantization`).
///
/// Q, K and V are stacked into one [qDim + 2·kvDim, hidden] matrix and gate and up into one
/// [2·intermediate, hidden], so each takes one GEMM. bf16 tensors are copied as they are;
/// f16, f32 and GGUF quantized tensors are dequantized on the host and rounded to bf16. FP8
/// layers are quantized on the device from those bf16 values, a row (output channel) at a time.
final class CUDALlamaWeights {
    /// A linear layer's weight [out, in]: bf16, or FP8 e4m3 with `scales` [out] f32.
    struct Linear {
        let weight: DeviceMemory
        let scales: DeviceMemory?
    }

    struct Layer {
        let attentionNorm: DeviceMemory   // [hidden] f32
        let qkv: Linear                   // [qDim + 2 kvDim, hidden]
        let qkvBias: DeviceMemory?        // [qDim + 2 kvDim] f32 (Qwen2)
        let queryNorm: DeviceMemory?      // [headDim] f32 (Qwen3)
        let keyNorm: DeviceMemory?        // [headDim] f32 (Qwen3, Gemma 3)
        let output: Linear                // [hidden, qDim]
        let postAttentionNorm: DeviceMemory?  // [hidden] f32 (Gemma)
        let mlpNorm: DeviceMemory         // [hidden] f32
        let gateUp: Linear                // [2 intermediate, hidden]
        let down: Linear                  // [hidden, intermediate]
        let postMLPNorm: DeviceMemory?    // [hidden] f32 (Gemma)
    }

    let embedding: DeviceMemory           // [vocab, hidden] bf16
    let layers: [Layer]
    let finalNorm: DeviceMemory           // [hidden] f32
    let lmHead: DeviceMemory              // [vocab, hidden] bf16; the embedding when tied
    let inverseFrequencies: DeviceMemory  // [headDim / 2] f32
    /// The sliding-window layers' RoPE where their base differs (Gemma 3), else nil.
    let localInverseFrequencies: DeviceMemory?
    /// Bytes of device memory the weights take.
    let bytes: Int
    /// Whether any linear layer is FP8 (its steps then need `StepBuffers.fp8Input`).
    var hasFP8: Bool {
        layers.contains { [$0.qkv, $0.output, $0.gateUp, $0.down].contains { $0.scales != nil } }
    }

    init(weights: LlamaWeights, config c: ModelConfig, rope: RotaryEmbedding, localRope: RotaryEmbedding?,
         quantization: WeightQuantization?, kernels: CUDAKernels, device: CUDADevice, logger: Logger) throws {
        let uploader = Uploader(device: device, kernels: kernels, quantization: quantization)
        let started = ContinuousClock.now
        embedding = try uploader.matrices([weights.embedding], label: "embedding")
        var layers: [Layer] = []
        for (index, layer) in weights.layers.enumerated() {
            // The kernels have no sink term and no output bias: such a layer must not upload.
            guard layer.attentionSinks == nil, layer.output.bias == nil else {
                throw CUDAError.unsupported("layer \(index) of \(c.family) has attention sinks or an output bias, which the CUDA kernels do not apply")
            }
            guard let mlp = layer.mlp else {
                throw CUDAError.unsupported("layer \(index) of \(c.family) is a mixture of experts, which the CUDA backend does not run")
            }
            let biases = [layer.query.bias, layer.key.bias, layer.value.bias]
            layers.append(Layer(
                attentionNorm: try uploader.floats(layer.attentionNorm, label: "attention norm"),
                qkv: try uploader.linear([layer.query, layer.key, layer.value], label: "qkv"),
                qkvBias: biases.allSatisfy({ $0 != nil })
                    ? try uploader.floats(biases.flatMap { $0 ?? [] }, label: "qkv bias") : nil,
                queryNorm: try layer.queryNorm.map { try uploader.floats($0, label: "q norm") },
                keyNorm: try layer.keyNorm.map { try uploader.floats($0, label: "k norm") },
                output: try uploader.linear([layer.output], label: "o_proj"),
                postAttentionNorm: try layer.postAttentionNorm.map { try uploader.floats($0, label: "post-attention norm") },
                mlpNorm: try uploader.floats(layer.mlpNorm, label: "mlp norm"),
                gateUp: try uploader.linear([mlp.gate, mlp.up], label: "gate_up"),
                down: try uploader.linear([mlp.down], label: "down_proj"),
                postMLPNorm: try layer.postMLPNorm.map { try uploader.floats($0, label: "post-MLP norm") }))
            if (index + 1) % max(1, c.layerCount / 4) == 0 || index + 1 == c.layerCount {
                logger.info("uploading weights", metadata: [
                    "layers": "\(index + 1)/\(c.layerCount)", "MiB": "\(uploader.bytes >> 20)",
                    "s": "\((ContinuousClock.now - started).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))",
                ])
            }
        }
        self.layers = layers
        finalNorm = try uploader.floats(weights.finalNorm, label: "final norm")
        lmHead = weights.lmHead.bytes.baseAddress == weights.embedding.bytes.baseAddress
            ? embedding : try uploader.matrices([weights.lmHead], label: "lm_head")
        inverseFrequencies = try uploader.floats(rope.inverseFrequencies, label: "RoPE frequencies")
        localInverseFrequencies = try localRope.map { try uploader.floats($0.inverseFrequencies, label: "local RoPE frequencies") }
        bytes = uploader.bytes
    }
}

/// Copies host tensors into new device allocations, converting them to bf16 on the way (and
/// the linear layers' to FP8 on the device, with `quantization`).
private final class Uploader {
    let device: CUDADevice
    let kernels: CUDAKernels
    let quantization: WeightQuantization?
    private(set) var bytes = 0
    /// Conversion staging: rows are converted here a chunk at a time.
    private var floats: [Float] = []
    private var halves: [UInt16] = []
    private static let chunkElements = 1 << 24

    init(device: CUDADevice, kernels: CUDAKernels, quantization: WeightQuantization?) {
        self.device = device
        self.kernels = kernels
        self.quantization = quantization
    }

    /// The rows of `tensors`, stacked, as one bf16 matrix.
    func matrices(_ tensors: [TensorData], label: String) throws -> DeviceMemory {
        let memory = try stacked(tensors, label: label)
        bytes += memory.bytes
        return memory
    }

    /// The rows of `parts`, stacked, as one linear layer's weight: an FP8 checkpoint's bytes
    /// and scales as they are, else bf16, or FP8 made on the device with `--quantization fp8`.
    func linear(_ parts: [Linear], label: String) throws -> CUDALlamaWeights.Linear {
        let tensors = parts.map(\.weight)
        let columns = tensors[0].columns
        let rows = tensors.reduce(0) { $0 + $1.rows }
        let checkpointFP8 = parts.contains { $0.weightScales != nil }
        guard checkpointFP8 || quantization == .fp8 else {
            return CUDALlamaWeights.Linear(weight: try matrices(tensors, label: label), scales: nil)
        }
        let multiple = CUDAKernels.gemvColumnMultiple(fp8: true)
        guard columns % multiple == 0 else {
            throw CUDAError.unsupported("FP8 weights (\(checkpointFP8 ? "the checkpoint's" : "--quantization fp8")) need the input size of every linear layer to be a multiple of \(multiple); '\(tensors[0].name)' has \(columns)")
        }
        if checkpointFP8 {
            guard parts.allSatisfy({ $0.weightScales != nil && $0.weight.dtype == .f8e4m3 }) else {
                throw CUDAError.unsupported("\(label): '\(tensors[0].name)' mixes FP8 and other weights in one stacked layer")
            }
            let weight = try device.allocate(bytes: rows * columns, label: "\(label) FP8")
            var offset = 0
            for tensor in tensors {
                try device.copy(to: weight.address + UInt64(offset), from: tensor.bytes.baseAddress!, bytes: tensor.rows * columns)
                offset += tensor.rows * columns
            }
            bytes += weight.bytes
            return CUDALlamaWeights.Linear(weight: weight, scales: try floats(parts.flatMap { $0.weightScales ?? [] },
                                                                             label: "\(label) FP8 scales"))
        }
        let staged = try stacked(tensors, label: "\(label) (bf16, being quantized)")
        let weight = try device.allocate(bytes: rows * columns, label: "\(label) FP8")
        let scales = try device.allocate(bytes: rows * 4, label: "\(label) FP8 scales")
        try kernels.quantizeFP8(input: staged.address, out: weight.address, scales: scales.address, rows: rows, k: columns)
        // The staging copy is freed on return; the kernel must have read it by then.
        try device.synchronize()
        bytes += weight.bytes + scales.bytes
        return CUDALlamaWeights.Linear(weight: weight, scales: scales)
    }

    private func stacked(_ tensors: [TensorData], label: String) throws -> DeviceMemory {
        let total = tensors.reduce(0) { $0 + $1.elementCount } * 2
        let memory = try device.allocate(bytes: total, label: label)
        var offset = 0
        for tensor in tensors {
            try upload(tensor, to: memory.address + UInt64(offset))
            offset += tensor.elementCount * 2
        }
        return memory
    }

    func floats(_ values: [Float], label: String) throws -> DeviceMemory {
        let memory = try device.allocate(bytes: values.count * 4, label: label)
        try values.withUnsafeBytes { try device.copy(to: memory.address, from: $0.baseAddress!, bytes: $0.count) }
        bytes += values.count * 4
        return memory
    }

    private func upload(_ tensor: TensorData, to address: CUdeviceptr) throws {
        if tensor.dtype == .bf16 {
            try device.copy(to: address, from: tensor.bytes.baseAddress!, bytes: tensor.elementCount * 2)
            return
        }
        guard tern_type_supported(Int32(tensor.dtype.rawValue)) != 0 else {
            throw CUDAError.unsupported("tensor '\(tensor.name)' has type \(tensor.dtype), which Tern cannot convert to bf16")
        }
        let columns = tensor.columns
        let rowsPerChunk = max(1, Self.chunkElements / columns)
        var row = 0
        while row < tensor.rows {
            let count = min(rowsPerChunk, tensor.rows - row)
            let elements = count * columns
            if floats.count < elements {
                floats = [Float](repeating: 0, count: elements)
                halves = [UInt16](repeating: 0, count: elements)
            }
            floats.withUnsafeMutableBufferPointer { out in
                tern_dequantize_rows(tensor.bytes.baseAddress, Int32(tensor.dtype.rawValue), Int64(columns),
                                     Int64(row), Int64(count), out.baseAddress)
            }
            for i in 0..<elements { halves[i] = bfloat16Bits(floats[i]) }
            try halves.withUnsafeBytes {
                try device.copy(to: address + UInt64(row * columns * 2), from: $0.baseAddress!, bytes: elements * 2)
            }
            row += count
        }
    }
}

/// The bf16 bits of `value`, rounded to nearest even as PyTorch rounds (NaN stays NaN).
func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if bits & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
    return UInt16(truncatingIfNeeded: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16)
}
