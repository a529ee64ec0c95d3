/// Tern's kernels loaded on a device, with one typed launch method each (shapes in
/// `KernelSource`). The module comes from the on-disk cache, or NVRTC on a first start.
public final class CUDAKernels {
    let device: CUDADevice
    private let functions: [String: CUhandle]
    private let embeddingFunction, rmsNormFunction, rmsNormAddFunction, qkvRopeFunction, siluMulFunction: CUhandle
    private let attentionFunction, gemvFunction, sampleFunction, tiledAttentionFunction: CUhandle
    private let mmaAttentionFunctions: [Int: CUhandle]
    private let sampleFinishFunction: CUhandle
    private let gemvSiluFunction: CUhandle
    private let gemvFP8Function, gemvSiluFP8Function, quantizeFP8Function: CUhandle
    private let adjustLogitsFunction, applyTokenMaskFunction, sampleFilteredFunction: CUhandle
    /// Pieces each logits row is cut into by the first sampling kernel (at most 32).
    public static let samplingSlices = 32
    /// The split attention compiled for a head size and a largest group: [headDim: [(maxGroup, kernel)]].
    private let fixedAttentionFunctions: [Int: [(maxGroup: Int, function: CUhandle)]]
    /// Query rows (tokens × query heads of one KV head) in a tile of the tiled attention.
    public static let tiledAttentionRows = 64
    /// The largest head the tiled attention takes.
    public static let tiledAttentionMaxHeadDim = 128
    /// The most tokens `gemv` takes; larger steps go to cuBLASLt.
    public static let gemvMaxTokens = 4
    /// Keys per attention piece below which splitting a sequence's keys further does not pay.
    public static let minimumKeysPerPartition = 32
    /// The most pieces the split attention's in-kernel merge takes.
    public static let maximumPartitions = 64
    /// Head sizes the tensor-core prompt attention takes (others use `tiledAttention`).
    public static let mmaAttentionHeadDims: Set<Int> = [64, 128]

    /// Whether this start ran NVRTC (false: the module came from the cache), and how long
    /// getting and loading the module took.
    public let compiled: Bool
    public let loadSeconds: Double

    public init(device: CUDADevice, cache: KernelCache) throws {
        self.device = device
        let started = ContinuousClock.now
        let (image, compiled) = try cache.cubin(source: KernelSource.module, name: "tern-kernels",
                                                architecture: device.architecture) { try NVRTC() }
        let functions = try device.loadFunctions(image: image, names: KernelSource.functionNames)
        self.functions = functions
        func function(_ name: String) throws -> CUhandle {
            guard let function = functions[name] else { throw CUDAError.unsupported("kernel \(name) is missing") }
            return function
        }
        embeddingFunction = try function("tern_embedding")
        rmsNormFunction = try function("tern_rmsnorm")
        rmsNormAddFunction = try function("tern_rmsnorm_add")
        qkvRopeFunction = try function("tern_qkv_rope_cache")
        siluMulFunction = try function("tern_silu_mul")
        attentionFunction = try function("tern_attention_partial")
        gemvFunction = try function("tern_gemv")
        sampleFunction = try function("tern_sample")
        sampleFinishFunction = try function("tern_sample_finish")
        gemvSiluFunction = try function("tern_gemv_silu")
        gemvFP8Function = try function("tern_gemv_fp8")
        gemvSiluFP8Function = try function("tern_gemv_silu_fp8")
        quantizeFP8Function = try function("tern_quantize_fp8")
        adjustLogitsFunction = try function("tern_adjust_logits")
        applyTokenMaskFunction = try function("tern_apply_token_mask")
        sampleFilteredFunction = try function("tern_sample_filtered")
        tiledAttentionFunction = try function("tern_attention_tiled")
        mmaAttentionFunctions = [64: try function("tern_attention_mma64"), 128: try function("tern_attention_mma128")]
        fixedAttentionFunctions = try [64, 128].reduce(into: [:]) { table, headDim in
            table[headDim] = try [4, 8].map { (maxGroup: $0, function: try function("tern_attention_partial_d\(headDim)_g\($0)")) }
        }
        try device.setMaxDynamicSharedMemory(tiledAttentionFunction,
                                             bytes: Self.tiledAttentionSharedBytes(headDim: Self.tiledAttentionMaxHeadDim))
        self.compiled = compiled
        let elapsed = (ContinuousClock.now - started).components
        loadSeconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }

    /// out [tokens, hidden] f32 = table [vocab, hidden] bf16 rows `ids` [tokens] i32, times
    /// `scale` (Gemma scales its embeddings by √hidden).
    public func embedding(table: CUdeviceptr, ids: CUdeviceptr, out: CUdeviceptr, tokens: Int, hidden: Int,
                          scale: Float = 1) throws {
        try device.launch(embeddingFunction, name: "tern_embedding", grid: (tokens, 1, 1), block: (256, 1, 1),
                          overlapsPrevious: false,
                          .pointer(table), .pointer(ids), .pointer(out), .int32(Int32(hidden)), .float(scale))
    }

    /// out [count, dim] bf16 = RMSNorm of input [*, dim] f32 rows (`rows` [count] i32 picks
    /// them, or nil for the first `count`), times weight [dim] f32.
    public func rmsNorm(input: CUdeviceptr, rows: CUdeviceptr?, weight: CUdeviceptr, out: CUdeviceptr, count: Int,
                        dim: Int, eps: Float) throws {
        try device.launch(rmsNormFunction, name: "tern_rmsnorm", grid: (count, 1, 1),
                          block: (dim >= 4096 ? 512 : 256, 1, 1),
                          .pointer(input), .pointer(rows ?? 0), .pointer(weight), .pointer(out), .int32(Int32(dim)),
                          .float(eps))
    }

    /// residual [count, dim] f32 += RMSNorm(input [count, dim] f32) · weight [dim] f32 (a
    /// block's output normalised before the residual add: Gemma's sandwich norms).
    public func rmsNormAdd(input: CUdeviceptr, weight: CUdeviceptr, residual: CUdeviceptr, count: Int, dim: Int,
                           eps: Float) throws {
        try device.launch(rmsNormAddFunction, name: "tern_rmsnorm_add", grid: (count, 1, 1),
                          block: (dim >= 4096 ? 512 : 256, 1, 1),
                          .pointer(input), .pointer(weight), .pointer(residual), .int32(Int32(dim)), .float(eps))
    }

    /// From qkv [tokens, (heads + 2 kvHeads) · headDim] f32: query [tokens, heads, headDim] bf16,
    /// and K, V written at `slots` [tokens] i64 into the caches [blocks, blockSize, kvHeads,
    /// headDim] bf16, after the optional bias [qkv width] f32, Q/K norms [headDim] f32 and RoPE
    /// (inverseFrequencies [rotaryDim / 2] f32 at `positions` [tokens] i32).
    public func qkvRopeCache(qkv: CUdeviceptr, bias: CUdeviceptr?, queryNorm: CUdeviceptr?, keyNorm: CUdeviceptr?,
                             inverseFrequencies: CUdeviceptr, positions: CUdeviceptr, slots: CUdeviceptr,
                             query: CUdeviceptr, keyCache: CUdeviceptr, valueCache: CUdeviceptr, tokens: Int,
                             heads: Int, kvHeads: Int, headDim: Int, rotaryDim: Int, neox: Bool, eps: Float) throws {
        try device.launch(qkvRopeFunction, name: "tern_qkv_rope_cache",
                          grid: (tokens, (heads + 2 * kvHeads + 3) / 4, 1), block: (128, 1, 1),
                          sharedBytes: 4 * headDim * 4,
                          .pointer(qkv), .pointer(bias ?? 0), .pointer(queryNorm ?? 0), .pointer(keyNorm ?? 0),
                          .pointer(inverseFrequencies), .pointer(positions), .pointer(slots), .pointer(query),
                          .pointer(keyCache), .pointer(valueCache), .int32(Int32(heads)), .int32(Int32(kvHeads)),
                          .int32(Int32(headDim)), .int32(Int32(rotaryDim)), .int32(neox ? 1 : 0), .float(eps))
    }

    /// out [tokens, intermediate] bf16 = act(gate) · up from gateUp [tokens, 2 · intermediate]
    /// bf16, act SiLU or, with `gelu`, tanh-approximated GELU (GeGLU).
    public func siluMul(gateUp: CUdeviceptr, out: CUdeviceptr, tokens: Int, intermediate: Int, gelu: Bool = false) throws {
        let total = tokens * intermediate
        let blocks = min((total + 255) / 256, device.multiprocessorCount * 16)
        try device.launch(siluMulFunction, name: "tern_silu_mul", grid: (blocks, 1, 1), block: (256, 1, 1),
                          .pointer(gateUp), .pointer(out), .int32(Int32(intermediate)), .int64(Int64(total)),
                          .int32(gelu ? 1 : 0))
    }

    /// `y [tokens, n] (+)= x [tokens, k] · wᵀ` with x [tokens, k] bf16 and w [n, k] bf16, or FP8
    /// (e4m3) scaled by `scales` [n] f32 a row, for at most `gemvMaxTokens` tokens and k a
    /// multiple of 8 (16 for FP8); y f32 (added to when `accumulate`) or bf16.
    public func gemv(weight: CUdeviceptr, scales: CUdeviceptr? = nil, input: CUdeviceptr, output: CUdeviceptr,
                     tokens: Int, n: Int, k: Int, outputF32: Bool, accumulate: Bool) throws {
        precondition(tokens <= Self.gemvMaxTokens && k % Self.gemvColumnMultiple(fp8: scales != nil) == 0,
                     "gemv takes at most 4 tokens and k a multiple of 8 (16 for FP8)")
        let tail: [KernelArgument] = [.pointer(input), .pointer(output), .int32(Int32(n)), .int32(Int32(k)),
                                      .int32(Int32(tokens)), .int32(outputF32 ? 1 : 0), .int32(accumulate ? 1 : 0)]
        if let scales {
            try device.launch(gemvFP8Function, name: "tern_gemv_fp8", grid: ((n + 7) / 8, 1, 1), block: (256, 1, 1),
                              arguments: [.pointer(weight), .pointer(scales)] + tail)
        } else {
            try device.launch(gemvFunction, name: "tern_gemv", grid: ((n + 7) / 8, 1, 1), block: (256, 1, 1),
                              arguments: [.pointer(weight)] + tail)
        }
    }

    /// The column count `gemv` and `gemvSilu` need k to be a multiple of: one 16-byte load of a
    /// weight row holds 8 bf16 or 16 FP8 weights.
    public static func gemvColumnMultiple(fp8: Bool) -> Int { fp8 ? 16 : 8 }

    /// The gate/up GEMV and the activation in one launch, for at most `gemvMaxTokens` tokens:
    /// out [tokens, intermediate] bf16 = act(x · gateᵀ) · (x · upᵀ) with x [tokens, k] bf16 and
    /// gateUp [2 · intermediate, k] bf16, or FP8 with `scales` [2 · intermediate] (gate rows
    /// first); intermediate a multiple of 4, k of `gemvColumnMultiple`; act SiLU or, with
    /// `gelu`, tanh-approximated GELU.
    public func gemvSilu(gateUp: CUdeviceptr, scales: CUdeviceptr? = nil, input: CUdeviceptr, out: CUdeviceptr,
                         tokens: Int, intermediate: Int, k: Int, gelu: Bool = false) throws {
        precondition(tokens <= Self.gemvMaxTokens && k % Self.gemvColumnMultiple(fp8: scales != nil) == 0
                        && intermediate % 4 == 0,
                     "gemvSilu takes at most 4 tokens, k a multiple of 8 (16 for FP8) and intermediate % 4 == 0")
        let tail: [KernelArgument] = [.pointer(input), .pointer(out), .int32(Int32(intermediate)), .int32(Int32(k)),
                                      .int32(Int32(tokens)), .int32(gelu ? 1 : 0)]
        if let scales {
            try device.launch(gemvSiluFP8Function, name: "tern_gemv_silu_fp8", grid: (intermediate / 4, 1, 1),
                              block: (256, 1, 1), arguments: [.pointer(gateUp), .pointer(scales)] + tail)
        } else {
            try device.launch(gemvSiluFunction, name: "tern_gemv_silu", grid: (intermediate / 4, 1, 1),
                              block: (256, 1, 1), arguments: [.pointer(gateUp)] + tail)
        }
    }

    /// out [rows, k] FP8 (e4m3) and scales [rows] f32 from x [rows, k] bf16: each row divided by
    /// its largest magnitude over 448, rounded to nearest even; k a multiple of 8.
    public func quantizeFP8(input: CUdeviceptr, out: CUdeviceptr, scales: CUdeviceptr, rows: Int, k: Int) throws {
        precondition(k % 8 == 0, "quantizeFP8 takes k a multiple of 8")
        try device.launch(quantizeFP8Function, name: "tern_quantize_fp8", grid: (rows, 1, 1), block: (256, 1, 1),
                          .pointer(input), .pointer(out), .pointer(scales), .int32(Int32(k)))
    }

    /// ids [rows] i32 from logits [rows, vocab] f32: greedy where temperatures [rows] f32 is 0,
    /// else a seeded draw (Gumbel-max) keyed by keys [rows] u64. Each row is cut into
    /// `samplingSlices` pieces searched in parallel; `candidates` holds rows × slices pairs.
    public func sample(logits: CUdeviceptr, temperatures: CUdeviceptr, keys: CUdeviceptr,
                       candidates: SamplingCandidates, ids: CUdeviceptr, rows: Int, vocabulary: Int) throws {
        precondition(rows <= candidates.rows, "more sampling rows than candidate room")
        let slices = Self.samplingSlices
        try device.launch(sampleFunction, name: "tern_sample", grid: (rows, slices, 1), block: (256, 1, 1),
                          .pointer(logits), .int32(Int32(vocabulary)), .pointer(temperatures), .pointer(keys),
                          .pointer(candidates.values.address), .pointer(candidates.ids.address))
        try device.launch(sampleFinishFunction, name: "tern_sample_finish", grid: (rows, 1, 1), block: (32, 1, 1),
                          .pointer(candidates.values.address), .pointer(candidates.ids.address),
                          .int32(Int32(slices)), .pointer(ids))
    }

    /// Applies `count` logit adjustments to logits [rows, vocab] f32: rows, tokens [count] i32,
    /// values [count, 3] f32 (bias, repetition penalty, subtracted amount), masks [count] i32.
    public func adjustLogits(logits: CUdeviceptr, vocabulary: Int, rows: CUdeviceptr, tokens: CUdeviceptr,
                             values: CUdeviceptr, masks: CUdeviceptr, count: Int) throws {
        try device.launch(adjustLogitsFunction, name: "tern_adjust_logits", grid: ((count + 255) / 256, 1, 1),
                          block: (256, 1, 1), .pointer(logits), .int32(Int32(vocabulary)), .pointer(rows),
                          .pointer(tokens), .pointer(values), .pointer(masks), .int32(Int32(count)))
    }

    /// Structured-output masks: row maskRows[m] (`maskRows` [count] i32) of logits [rows, vocab]
    /// f32 keeps the tokens set in masks [count, words] u32 (bit t % 32 of word t / 32), the
    /// others become -inf.
    public func applyTokenMask(logits: CUdeviceptr, vocabulary: Int, maskRows: CUdeviceptr, masks: CUdeviceptr,
                               words: Int, count: Int) throws {
        guard count > 0 else { return }
        try device.launch(applyTokenMaskFunction, name: "tern_apply_token_mask",
                          grid: ((vocabulary + 255) / 256, count, 1), block: (256, 1, 1), .pointer(logits),
                          .int32(Int32(vocabulary)), .pointer(maskRows), .pointer(masks), .int32(Int32(words)))
    }

    /// ids [rows] i32 from logits [rows, vocab] f32 with the host sampler's filters: greedy
    /// where temperatures [rows] f32 is 0, else top-k (topKs [rows] i32, 0 = off), top-p
    /// (topPs [rows] f32, 1 = off), min-p (minPs [rows] f32, 0 = off) and a seeded draw keyed
    /// by keys [rows] u64 (as `sample`). One block per row.
    public func sampleFiltered(logits: CUdeviceptr, temperatures: CUdeviceptr, keys: CUdeviceptr, topKs: CUdeviceptr,
                               topPs: CUdeviceptr, minPs: CUdeviceptr, ids: CUdeviceptr, rows: Int,
                               vocabulary: Int) throws {
        try device.launch(sampleFilteredFunction, name: "tern_sample_filtered", grid: (rows, 1, 1),
                          block: (1024, 1, 1), .pointer(logits), .int32(Int32(vocabulary)), .pointer(temperatures),
                          .pointer(keys), .pointer(topKs), .pointer(topPs), .pointer(minPs), .pointer(ids))
    }

    static func tiledAttentionSharedBytes(headDim: Int) -> Int {
        let rows = tiledAttentionRows, keys = 64
        return rows * (headDim + 1) * 4 + 2 * keys * headDim * 2 + rows * (keys + 1) * 4
    }

    /// Paged attention like `pagedAttention`, by tiles of query tokens: tiles [tileCount, 3] i32
    /// (sequence, first flat token, tokens, at most 64 / (heads / kvHeads) a tile). For steps
    /// with prompt tokens; headDim at most 128 and a multiple of 8.
    public func tiledAttention(query: CUdeviceptr, keyCache: CUdeviceptr, valueCache: CUdeviceptr,
                               queryStart: CUdeviceptr, sequenceLengths: CUdeviceptr, blockTable: CUdeviceptr,
                               tiles: CUdeviceptr, tileCount: Int, maxBlocks: Int, blockSize: Int, heads: Int,
                               kvHeads: Int, headDim: Int, slidingWindow: Int, scale: Float, out: CUdeviceptr) throws {
        try device.launch(tiledAttentionFunction, name: "tern_attention_tiled", grid: (tileCount, kvHeads, 1),
                          block: (128, 1, 1), sharedBytes: Self.tiledAttentionSharedBytes(headDim: headDim),
                          .pointer(query), .pointer(keyCache), .pointer(valueCache), .pointer(queryStart),
                          .pointer(sequenceLengths), .pointer(blockTable), .pointer(tiles), .int32(Int32(maxBlocks)),
                          .int32(Int32(blockSize)), .int32(Int32(heads)), .int32(Int32(kvHeads)),
                          .int32(Int32(headDim)), .float(scale), .int32(Int32(slidingWindow)), .pointer(out))
    }

    /// How many pieces `pagedAttention` cuts each (token, KV head)'s keys into: enough blocks
    /// to fill the GPU several times over, no piece shorter than `minimumKeysPerPartition`
    /// keys at `maxSequenceLength`, within the partials' capacity.
    public func decodePartitions(tokens: Int, heads: Int, kvHeads: Int, maxSequenceLength: Int,
                                 capacity: Int) -> Int {
        Self.decodePartitions(tokens: tokens, heads: heads, kvHeads: kvHeads, maxSequenceLength: maxSequenceLength,
                              capacity: capacity, multiprocessors: device.multiprocessorCount)
    }

    /// `decodePartitions` for a GPU of `multiprocessors` SMs.
    public static func decodePartitions(tokens: Int, heads: Int, kvHeads: Int, maxSequenceLength: Int, capacity: Int,
                                        multiprocessors: Int) -> Int {
        let rows = max(1, tokens * kvHeads)
        let wanted = (4 * multiprocessors + rows - 1) / rows
        let useful = max(1, (maxSequenceLength + minimumKeysPerPartition - 1) / minimumKeysPerPartition)
        return max(1, min(wanted, useful, maximumPartitions, capacity / max(1, tokens * heads)))
    }

    static func attentionPartialSharedBytes(group: Int, headDim: Int) -> Int {
        let slices = 128 / (headDim / 8)
        return (group * headDim + group * 64 + slices * group * headDim + 24) * 4 + 64 * 8
    }

    /// Paged attention of query [tokens, heads, headDim] bf16 over the caches through
    /// blockTable [sequences, maxBlocks] i32, with queryStart [sequences + 1] and
    /// sequenceLengths [sequences] i32; out [tokens, heads · headDim] bf16. Each (token, KV
    /// head)'s keys are split into at most `partitions` pieces (see `decodePartitions`) that
    /// the device sizes from the sequence's length; the last piece of each merges them.
    /// heads / kvHeads at most 8; headDim a multiple of 32, at most 256.
    public func pagedAttention(query: CUdeviceptr, keyCache: CUdeviceptr, valueCache: CUdeviceptr,
                               queryStart: CUdeviceptr, sequenceLengths: CUdeviceptr, blockTable: CUdeviceptr,
                               tokens: Int, sequences: Int, maxBlocks: Int, partitions: Int, blockSize: Int,
                               heads: Int, kvHeads: Int, headDim: Int, slidingWindow: Int, scale: Float,
                               partials: AttentionPartials, out: CUdeviceptr) throws {
        precondition(partitions >= 1 && partitions <= Self.maximumPartitions
                     && tokens * heads * partitions <= max(partials.capacity, tokens * heads),
                     "attention partitions exceed the partials' capacity")
        let group = heads / kvHeads
        // A head size known at compile time lets every load of a tile be in flight at once.
        let function = fixedAttentionFunctions[headDim]?.first { group <= $0.maxGroup }?.function ?? attentionFunction
        try device.launch(function, name: "tern_attention_partial", grid: (tokens, kvHeads, partitions),
                          block: (128, 1, 1), sharedBytes: Self.attentionPartialSharedBytes(group: group, headDim: headDim),
                          .pointer(query), .pointer(keyCache), .pointer(valueCache), .pointer(queryStart),
                          .pointer(sequenceLengths), .pointer(blockTable), .int32(Int32(sequences)),
                          .int32(Int32(maxBlocks)), .int32(Int32(blockSize)), .int32(Int32(heads)),
                          .int32(Int32(kvHeads)), .int32(Int32(headDim)), .float(scale),
                          .int32(Int32(slidingWindow)), .int32(Int32(Self.minimumKeysPerPartition)),
                          .pointer(partials.values.address), .pointer(partials.maxima.address),
                          .pointer(partials.sums.address), .pointer(partials.counters.address), .pointer(out))
    }

    /// `tiledAttention` on the tensor cores, for headDim in `mmaAttentionHeadDims`.
    public func mmaAttention(query: CUdeviceptr, keyCache: CUdeviceptr, valueCache: CUdeviceptr,
                             queryStart: CUdeviceptr, sequenceLengths: CUdeviceptr, blockTable: CUdeviceptr,
                             tiles: CUdeviceptr, tileCount: Int, maxBlocks: Int, blockSize: Int, heads: Int,
                             kvHeads: Int, headDim: Int, slidingWindow: Int, scale: Float, out: CUdeviceptr) throws {
        guard let function = mmaAttentionFunctions[headDim] else {
            throw CUDAError.unsupported("no tensor-core attention kernel for head_dim \(headDim)")
        }
        let log2e: Float = 1.4426950408889634
        try device.launch(function, name: "tern_attention_mma", grid: (tileCount, kvHeads, 1),
                          block: (128, 1, 1), sharedBytes: 2 * 64 * (headDim + 8) * 2,
                          .pointer(query), .pointer(keyCache), .pointer(valueCache), .pointer(queryStart),
                          .pointer(sequenceLengths), .pointer(blockTable), .pointer(tiles), .int32(Int32(maxBlocks)),
                          .int32(Int32(blockSize)), .int32(Int32(heads)), .int32(Int32(kvHeads)),
                          .float(log2e * scale), .int32(Int32(slidingWindow)), .pointer(out))
    }
}

/// Scratch of the two-step sampling: per row and slice the best score and its token id.
public final class SamplingCandidates {
    public let rows: Int
    let values: DeviceMemory
    let ids: DeviceMemory

    public init(device: CUDADevice, rows: Int) throws {
        self.rows = rows
        values = try device.allocate(bytes: rows * CUDAKernels.samplingSlices * 4, label: "sampling candidates")
        ids = try device.allocate(bytes: rows * CUDAKernels.samplingSlices * 4, label: "sampling candidate ids")
    }

    public var bytes: Int { values.bytes + ids.bytes }
}

/// Scratch of the split attention: per (token, head, piece) a weighted value vector
/// [headDim] f32, a max and a sum. `capacity` pieces fit.
public final class AttentionPartials {
    public let capacity: Int
    let values: DeviceMemory
    let maxima: DeviceMemory
    let sums: DeviceMemory
    /// Pieces finished per (token, KV head) [counterCount] i32: zero between launches.
    let counters: DeviceMemory

    public init(device: CUDADevice, capacity: Int, headDim: Int, counterCount: Int) throws {
        self.capacity = capacity
        values = try device.allocate(bytes: capacity * headDim * 4, label: "attention partials")
        maxima = try device.allocate(bytes: capacity * 4, label: "attention maxima")
        sums = try device.allocate(bytes: capacity * 4, label: "attention sums")
        counters = try device.allocate(bytes: counterCount * 4, label: "attention piece counters")
        try device.zero(counters.address, bytes: counterCount * 4)
    }

    public var bytes: Int { values.bytes + maxima.bytes + sums.bytes + counters.bytes }
}
