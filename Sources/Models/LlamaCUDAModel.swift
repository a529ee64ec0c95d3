import CUDABackend
import Foundation
import Logging

/// The Llama-family forward pass on a CUDA GPU: the same steps as `LlamaCPUModel`, in bf16
/// with f32 accumulation, over a paged KV cache in device memory.
///
/// Per layer: RMSNorm → one QKV GEMM (f32 out) → bias, Q/K norm, RoPE and the K/V cache write
/// in one kernel → paged attention (query tiles sharing K/V reads when the step has prompt
/// tokens; for decodes, split along the keys and merged) → o_proj GEMM added
/// to the f32 residual by cuBLASLt (β = 1) → RMSNorm → one gate+up GEMM → SiLU·up → down GEMM
/// added to the residual. Gemma 3 differs in switches: embeddings scaled by √hidden, the
/// attention and MLP outputs normalised before their residual add (`rmsNormAdd`), GeGLU
/// instead of SwiGLU, and local layers with a sliding window and a RoPE base of their own.
/// Every buffer is allocated at load for the largest step
/// (`maxBatchTokens` tokens, `maxSequences` sequences); a step allocates nothing and waits on
/// the GPU once, for the logits (or, sampling on the device, for the token ids).
public final class LlamaCUDAModel: ModelExecutor {
    public let config: ModelConfig
    public let device: CUDADevice
    public let blockSize: Int
    public let blockCount: Int
    public let maxBatchTokens: Int
    public let maxSequences: Int
    /// Bytes of device memory the weights, the activations and the KV cache take.
    public let weightBytes: Int
    public let activationBytes: Int
    public let cacheBytes: Int

    let blas: CUBLASLt
    let kernels: CUDAKernels
    let weights: CUDALlamaWeights
    let kvCache: DeviceMemory                // [layers, 2, blocks, blockSize, kvHeads, headDim] bf16
    let buffers: StepBuffers
    let rope: RotaryEmbedding
    /// The sliding-window layers' RoPE where their base differs (Gemma 3).
    let localRope: RotaryEmbedding?
    let profiler: StepProfiler?
    let logger: Logger
    /// Steps of at most this many tokens take the GEMV kernels, larger ones cuBLASLt
    /// (`TERN_GEMV_TOKENS`, 0 ... `CUDAKernels.gemvMaxTokens`, overrides it).
    let gemvTokenLimit: Int
    /// Decode steps replay captured graphs (false: `--enforce-eager`, or a capture failed).
    var graphsEnabled: Bool
    var graphs: [GraphKey: CUDAGraph] = [:]

    /// Uploads `weights`, compiles or loads the kernels, and sizes the KV pool to fill
    /// `memoryUtilization` of the device's memory (or `maxCacheBlocks` if smaller).
    /// `maxModelLen` bounds the block table's rows.
    public init(config: ModelConfig, weights hostWeights: LlamaWeights, device: CUDADevice, blockSize: Int,
                maxBatchTokens: Int, maxSequences: Int, maxModelLen: Int, memoryUtilization: Double,
                maxCacheBlocks: Int? = nil, quantization: WeightQuantization? = nil,
                kernelCache: KernelCache = KernelCache(), cudaGraphs: Bool = true, logger: Logger) throws {
        // Checked first, by name: gpt-oss is also a mixture of experts, but its attention sinks
        // and output biases must never reach kernels that would drop them.
        guard !config.family.hasAttentionSinks, !config.family.hasOutputBias else {
            throw CUDAError.unsupported("gpt-oss (attention sinks, biased output projections and clamped-SwiGLU experts) does not run on the CUDA backend yet (use --device cpu)")
        }
        guard !config.family.isMixtureOfExperts else {
            throw CUDAError.unsupported("\(config.family) is a mixture-of-experts model, which the CUDA backend does not run yet (use --device cpu)")
        }
        guard config.headDim <= 256, config.headDim % 32 == 0 else {
            throw CUDAError.unsupported("head_dim \(config.headDim) is not supported by the attention kernels (a multiple of 32, at most 256)")
        }
        guard config.headCount / config.kvHeadCount <= 8 else {
            throw CUDAError.unsupported("\(config.headCount / config.kvHeadCount) query heads per KV head is more than the attention kernels take (8)")
        }
        guard config.attentionLogitSoftcap == 0, config.finalLogitSoftcap == 0 else {
            throw CUDAError.unsupported("\(config.family): soft-capped attention scores and logits are not in the CUDA kernels (Gemma 2 runs with --device cpu)")
        }
        guard config.longRoPE == nil else {
            throw CUDAError.unsupported("\(config.family): LongRoPE (short and long factors) is not in the CUDA kernels (run it with --device cpu)")
        }
        guard maxBatchTokens > 0, maxSequences > 0, blockSize > 0 else {
            throw CUDAError.unsupported("batch limits must be positive (tokens \(maxBatchTokens), sequences \(maxSequences), block size \(blockSize))")
        }
        guard memoryUtilization > 0, memoryUtilization <= 1 else {
            throw CUDAError.unsupported("--gpu-memory-utilization must be in (0, 1], got \(memoryUtilization)")
        }
        self.config = config
        self.device = device
        self.blockSize = blockSize
        self.maxBatchTokens = maxBatchTokens
        self.maxSequences = maxSequences
        self.logger = logger
        graphsEnabled = cudaGraphs
        // Kernels overlap their neighbours' launch and ramp (TERN_CUDA_PDL=0 turns this off).
        device.programmaticLaunch = ProcessInfo.processInfo.environment["TERN_CUDA_PDL"] != "0"
        gemvTokenLimit = ProcessInfo.processInfo.environment["TERN_GEMV_TOKENS"].flatMap(Int.init)
            .map { min(max($0, 0), CUDAKernels.gemvMaxTokens) } ?? CUDAKernels.gemvMaxTokens
        rope = config.rotaryEmbedding(frequencyFactors: hostWeights.ropeFrequencyFactors)
        localRope = config.localRotaryEmbedding
        profiler = try StepProfiler.fromEnvironment(device: device)
        kernels = try CUDAKernels(device: device, cache: kernelCache)
        logger.info(kernels.compiled ? "compiled the CUDA kernels with NVRTC" : "loaded the cached CUDA kernels", metadata: [
            "arch": "\(device.architecture)", "cache": "\(kernelCache.directory)",
            "s": "\(String(format: "%.2f", kernels.loadSeconds))",
        ])
        blas = try CUBLASLt(device: device)
        weights = try CUDALlamaWeights(weights: hostWeights, config: config, rope: rope, localRope: localRope,
                                       quantization: quantization, kernels: kernels, device: device, logger: logger)
        weightBytes = weights.bytes
        let maxBlocksPerSequence = (maxModelLen + blockSize - 1) / blockSize + 1
        buffers = try StepBuffers(config: config, device: device, maxTokens: maxBatchTokens,
                                  maxSequences: maxSequences, maxBlocksPerSequence: maxBlocksPerSequence,
                                  fp8: weights.hasFP8)
        activationBytes = buffers.bytes

        let (free, total) = try device.memoryInfo()
        let budget = Int(Double(total) * memoryUtilization) - (total - free)
        let blockBytes = 2 * config.layerCount * blockSize * config.kvDim * 2
        var blocks = budget / blockBytes
        if let maxCacheBlocks { blocks = min(blocks, maxCacheBlocks) }
        guard blocks >= 2 else {
            throw CUDAError.unsupported("no room for the KV cache: \(free >> 20) MiB free of \(total >> 20) MiB after the weights, and --gpu-memory-utilization \(memoryUtilization) allows \(max(budget, 0) >> 20) MiB")
        }
        blockCount = blocks
        cacheBytes = blocks * blockBytes
        kvCache = try device.allocate(bytes: cacheBytes, label: "KV cache")
        try device.zero(kvCache.address, bytes: cacheBytes)
        try device.synchronize()
    }

    /// Device address of layer `layer`'s K (or V) pages [blocks, blockSize, kvHeads, headDim].
    func cacheAddress(layer: Int, value: Bool) -> CUdeviceptr {
        let half = blockCount * blockSize * config.kvDim * 2
        return kvCache.address + UInt64((2 * layer + (value ? 1 : 0)) * half)
    }

    /// The logits buffers hold one row per sequence of the largest step.
    public var maxLogitsRows: Int { maxSequences }

    public func execute(_ batch: ForwardBatch) throws -> UnsafeBufferPointer<Float> {
        let rows = batch.logitsIndices.count
        // The engine may step on another thread than the one that loaded the model (serve).
        try device.makeCurrent()
        try profiler?.beginStep()
        if try run(batch, sampling: nil, adjustments: []) {
            try device.copyAsync(to: buffers.hostLogits, from: buffers.logits.address,
                                 bytes: rows * config.vocabularySize * 4)
        }
        try device.synchronize()
        try profiler?.endStep(tokens: batch.tokenCount)
        return UnsafeBufferPointer(start: buffers.hostLogits, count: rows * config.vocabularySize)
    }

    /// Queues `batch` up to the logits [B', vocab] f32 in `buffers.logits` and, with
    /// `sampling`, the sampled ids [B'] in `buffers.sampledIDs` (after `adjustments`): a decode
    /// step through its captured graph, any other step kernel by kernel. False when there is
    /// nothing to compute.
    func run(_ batch: ForwardBatch, sampling: [DeviceSamplingRow]?, adjustments: [LogitAdjustment]) throws -> Bool {
        guard batch.tokenCount > 0 else { return false }
        let mode = StepSampling(sampling)
        if adjustments.isEmpty, let key = graphKey(for: batch, sampling: mode) {
            try buffers.uploadPadded(batch, sampling: sampling, bucket: key.bucket, maxBlocks: key.maxBlocks,
                                     device: device)
            if let graph = try graph(for: key) {
                try graph.launch()
                return true
            }
        }
        try buffers.upload(batch, sampling: sampling, limits: (maxBatchTokens, maxSequences), device: device)
        try buffers.uploadAdjustments(sampling == nil ? [] : adjustments, device: device)
        return try forward(eagerShape(batch), sampling: mode, adjustments: !adjustments.isEmpty && sampling != nil)
    }

    /// The launch sizes of `batch` run kernel by kernel.
    func eagerShape(_ batch: ForwardBatch) -> StepShape {
        let tokens = batch.tokenCount
        let prompt = tokens > batch.sequenceCount && config.headDim <= CUDAKernels.tiledAttentionMaxHeadDim
            && config.headDim % 8 == 0
        let partitions = prompt ? 1 : kernels.decodePartitions(
            tokens: tokens, heads: config.headCount, kvHeads: config.kvHeadCount,
            maxSequenceLength: buffers.maxSequenceLength, capacity: buffers.partials.capacity)
        return StepShape(tokens: tokens, sequences: batch.sequenceCount, rows: batch.logitsIndices.count,
                         maxBlocks: batch.maxBlocksPerSequence, partitions: partitions, prompt: prompt)
    }

    /// Queues the forward pass of a step of `shape` over the inputs in `buffers`, up to the
    /// logits (and the sampled ids); false when no row needs logits. Reads nothing from the
    /// host, so that it can be captured into a graph.
    func forward(_ shape: StepShape, sampling: StepSampling, adjustments: Bool) throws -> Bool {
        let c = config
        let b = buffers
        try kernels.embedding(table: weights.embedding.address, ids: b.tokenIDs, out: b.residual.address,
                              tokens: shape.tokens, hidden: c.hiddenSize, scale: c.embeddingScale)
        for (index, layer) in weights.layers.enumerated() {
            try attentionBlock(layer: layer, index: index, shape: shape)
            try mlpBlock(layer: layer, tokens: shape.tokens)
        }
        guard shape.rows > 0 else { return false }
        // Only the rows that sample need the final norm and the (large) LM head.
        try kernels.rmsNorm(input: b.residual.address, rows: b.logitsIndices, weight: weights.finalNorm.address,
                            out: b.lastHidden.address, count: shape.rows, dim: c.hiddenSize, eps: c.rmsNormEpsilon)
        try linear(input: b.lastHidden.address, weight: .init(weight: weights.lmHead, scales: nil), output: b.logits.address,
                   tokens: shape.rows, outFeatures: c.vocabularySize, inFeatures: c.hiddenSize, output: .f32)
        if adjustments && b.adjustmentCount > 0 {
            try kernels.adjustLogits(logits: b.logits.address, vocabulary: c.vocabularySize, rows: b.adjustmentRows,
                                     tokens: b.adjustmentTokens, values: b.adjustmentValues, masks: b.adjustmentMasks,
                                     count: b.adjustmentCount)
        }
        switch sampling {
        case .none:
            break
        case .plain:
            try kernels.sample(logits: b.logits.address, temperatures: b.temperatures, keys: b.samplingKeys,
                               candidates: b.samplingCandidates, ids: b.sampledIDs.address, rows: shape.rows,
                               vocabulary: c.vocabularySize)
        case .filtered:
            try kernels.sampleFiltered(logits: b.logits.address, temperatures: b.temperatures, keys: b.samplingKeys,
                                       topKs: b.topKs, topPs: b.topPs, minPs: b.minPs, ids: b.sampledIDs.address,
                                       rows: shape.rows, vocabulary: c.vocabularySize)
        }
        return true
    }

    private func attentionBlock(layer: CUDALlamaWeights.Layer, index: Int, shape: StepShape) throws {
        let c = config
        let b = buffers
        let tokens = shape.tokens
        try kernels.rmsNorm(input: b.residual.address, rows: nil, weight: layer.attentionNorm.address,
                            out: b.normed.address, count: tokens, dim: c.hiddenSize, eps: c.rmsNormEpsilon)
        try linear(input: b.normed.address, weight: layer.qkv, output: b.qkv.address, tokens: tokens,
                        outFeatures: c.qDim + 2 * c.kvDim, inFeatures: c.hiddenSize, output: .f32)
        try kernels.qkvRopeCache(
            qkv: b.qkv.address, bias: layer.qkvBias?.address, queryNorm: layer.queryNorm?.address,
            keyNorm: layer.keyNorm?.address,
            inverseFrequencies: (c.usesLocalRope(layer: index) ? weights.localInverseFrequencies : nil)?.address
                ?? weights.inverseFrequencies.address,
            positions: b.positions, slots: b.slotMapping, query: b.query.address,
            keyCache: cacheAddress(layer: index, value: false), valueCache: cacheAddress(layer: index, value: true),
            tokens: tokens, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, rotaryDim: rope.rotaryDim,
            neox: rope.style == .neox, eps: c.rmsNormEpsilon)
        let window = c.slidingWindow(layer: index)
        let keyCache = cacheAddress(layer: index, value: false)
        let valueCache = cacheAddress(layer: index, value: true)
        if shape.prompt && CUDAKernels.mmaAttentionHeadDims.contains(c.headDim) {
            // Prompt tokens in the step: tiles of queries on the tensor cores.
            try kernels.mmaAttention(
                query: b.query.address, keyCache: keyCache, valueCache: valueCache,
                queryStart: b.queryStartLocations, sequenceLengths: b.sequenceLengths, blockTable: b.blockTable,
                tiles: b.attentionTiles, tileCount: b.attentionTileCount, maxBlocks: shape.maxBlocks,
                blockSize: blockSize, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                slidingWindow: window, scale: c.attentionScale, out: b.attention.address)
        } else if shape.prompt {
            try kernels.tiledAttention(
                query: b.query.address, keyCache: keyCache, valueCache: valueCache,
                queryStart: b.queryStartLocations, sequenceLengths: b.sequenceLengths, blockTable: b.blockTable,
                tiles: b.attentionTiles, tileCount: b.attentionTileCount, maxBlocks: shape.maxBlocks,
                blockSize: blockSize, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                slidingWindow: window, scale: c.attentionScale, out: b.attention.address)
        } else {
            // Decodes only: one query a sequence, its keys split across the GPU.
            try kernels.pagedAttention(
                query: b.query.address, keyCache: keyCache, valueCache: valueCache,
                queryStart: b.queryStartLocations, sequenceLengths: b.sequenceLengths, blockTable: b.blockTable,
                tokens: tokens, sequences: shape.sequences, maxBlocks: shape.maxBlocks,
                partitions: shape.partitions, blockSize: blockSize, heads: c.headCount,
                kvHeads: c.kvHeadCount, headDim: c.headDim, slidingWindow: window, scale: c.attentionScale,
                partials: b.partials,
                out: b.attention.address)
        }
        try addToResidual(input: b.attention.address, weight: layer.output, norm: layer.postAttentionNorm,
                          tokens: tokens, inFeatures: c.qDim)
    }

    /// residual += x · wᵀ (cuBLASLt's β = 1, or the GEMV adding), or residual += RMSNorm(x · wᵀ)
    /// where the block's output has a norm of its own (Gemma).
    private func addToResidual(input: CUdeviceptr, weight: CUDALlamaWeights.Linear, norm: DeviceMemory?, tokens: Int,
                               inFeatures: Int) throws {
        let c = config
        guard let norm, let projected = buffers.projected else {
            try linear(input: input, weight: weight, output: buffers.residual.address, tokens: tokens,
                       outFeatures: c.hiddenSize, inFeatures: inFeatures, output: .f32, accumulate: true)
            return
        }
        try linear(input: input, weight: weight, output: projected.address, tokens: tokens,
                   outFeatures: c.hiddenSize, inFeatures: inFeatures, output: .f32)
        try kernels.rmsNormAdd(input: projected.address, weight: norm.address, residual: buffers.residual.address,
                               count: tokens, dim: c.hiddenSize, eps: c.rmsNormEpsilon)
    }

    /// `y (+)= x · wᵀ`: the GEMV kernel for a few tokens (decode reads each weight once, at
    /// close to the copy bandwidth), cuBLASLt above that; an FP8 weight multiplies the
    /// activations quantized per token there.
    private func linear(input: CUdeviceptr, weight: CUDALlamaWeights.Linear, output: CUdeviceptr, tokens: Int,
                        outFeatures: Int, inFeatures: Int, output type: CUBLASLt.OutputType,
                        accumulate: Bool = false) throws {
        let scales = weight.scales?.address
        if tokens <= gemvTokenLimit && inFeatures % CUDAKernels.gemvColumnMultiple(fp8: scales != nil) == 0 {
            try kernels.gemv(weight: weight.weight.address, scales: scales, input: input, output: output,
                             tokens: tokens, n: outFeatures, k: inFeatures, outputF32: type == .f32,
                             accumulate: accumulate)
        } else if let scales {
            guard let fp8 = buffers.fp8Input else {
                throw CUDAError.unsupported("an FP8 weight reached a step without FP8 input buffers")
            }
            try kernels.quantizeFP8(input: input, out: fp8.values.address, scales: fp8.scales.address, rows: tokens,
                                    k: inFeatures)
            try blas.linearFP8(input: fp8.values.address, inputScales: fp8.scales.address,
                               weight: weight.weight.address, weightScales: scales, output: output, tokens: tokens,
                               outFeatures: outFeatures, inFeatures: inFeatures, output: type, accumulate: accumulate)
        } else {
            try blas.linear(input: input, weight: weight.weight.address, output: output, tokens: tokens,
                            outFeatures: outFeatures, inFeatures: inFeatures, output: type, accumulate: accumulate)
        }
    }

    private func mlpBlock(layer: CUDALlamaWeights.Layer, tokens: Int) throws {
        let c = config
        let b = buffers
        let gelu = c.family.isGemma
        try kernels.rmsNorm(input: b.residual.address, rows: nil, weight: layer.mlpNorm.address,
                            out: b.normed.address, count: tokens, dim: c.hiddenSize, eps: c.rmsNormEpsilon)
        let scales = layer.gateUp.scales?.address
        if tokens <= gemvTokenLimit && c.hiddenSize % CUDAKernels.gemvColumnMultiple(fp8: scales != nil) == 0
            && c.intermediateSize % 4 == 0 {
            try kernels.gemvSilu(gateUp: layer.gateUp.weight.address, scales: scales, input: b.normed.address,
                                 out: b.mlp.address, tokens: tokens, intermediate: c.intermediateSize,
                                 k: c.hiddenSize, gelu: gelu)
        } else {
            try linear(input: b.normed.address, weight: layer.gateUp, output: b.gateUp.address,
                       tokens: tokens, outFeatures: 2 * c.intermediateSize, inFeatures: c.hiddenSize, output: .bf16)
            try kernels.siluMul(gateUp: b.gateUp.address, out: b.mlp.address, tokens: tokens,
                                intermediate: c.intermediateSize, gelu: gelu)
        }
        try addToResidual(input: b.mlp.address, weight: layer.down, norm: layer.postMLPNorm, tokens: tokens,
                          inFeatures: c.intermediateSize)
    }
}
