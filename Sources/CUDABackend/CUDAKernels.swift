/// Tern's kernels loaded on a device, with one typed launch method each (shapes in
/// `KernelSource`). The module comes from the on-disk cache, or NVRTC on a first start.
public final class CUDAKernels {
    let device: CUDADevice
    private let functions: [String: CUhandle]
    private let embeddingFunction, rmsNormFunction, qkvRopeFunction, siluMulFunction: CUhandle
    private let attentionFunction, combineFunction, gemvFunction, sampleFunction, tiledAttentionFunction: CUhandle
    /// Query rows (tokens × query heads of one KV head) in a tile of the tiled attention.
    public static let tiledAttentionRows = 64
    /// The largest head the tiled attention takes.
    public static let tiledAttentionMaxHeadDim = 128
    /// The most tokens `gemv` takes; larger steps go to cuBLASLt.
    public static let gemvMaxTokens = 4
    /// Keys per attention piece below which splitting a sequence's keys further does not pay.
    private static let minimumKeysPerPartition = 16

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
        qkvRopeFunction = try function("tern_qkv_rope_cache")
        siluMulFunction = try function("tern_silu_mul")
        attentionFunction = try function("tern_attention_partial")
        combineFunction = try function("tern_attention_combine")
        gemvFunction = try function("tern_gemv")
        sampleFunction = try function("tern_sample")
        tiledAttentionFunction = try function("tern_attention_tiled")
        try device.setMaxDynamicSharedMemory(tiledAttentionFunction,
                                             bytes: Self.tiledAttentionSharedBytes(headDim: Self.tiledAttentionMaxHeadDim))
        self.compiled = compiled
        let elapsed = (ContinuousClock.now - started).components
        loadSeconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }

    /// out [tokens, hidden] f32 = table [vocab, hidden] bf16 rows `ids` [tokens] i32.
    public func embedding(table: CUdeviceptr, ids: CUdeviceptr, out: CUdeviceptr, tokens: Int, hidden: Int) throws {
        try device.launch(embeddingFunction, name: "tern_embedding", grid: (tokens, 1, 1), block: (256, 1, 1),
                          .pointer(table), .pointer(ids), .pointer(out), .int32(Int32(hidden)))
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

    /// out [tokens, intermediate] bf16 = silu(gate) · up from gateUp [tokens, 2 · intermediate] bf16.
    public func siluMul(gateUp: CUdeviceptr, out: CUdeviceptr, tokens: Int, intermediate: Int) throws {
        let total = tokens * intermediate
        let blocks = min((total + 255) / 256, device.multiprocessorCount * 16)
        try device.launch(siluMulFunction, name: "tern_silu_mul", grid: (blocks, 1, 1), block: (256, 1, 1),
                          .pointer(gateUp), .pointer(out), .int32(Int32(intermediate)), .int64(Int64(total)))
    }

    /// `y [tokens, n] (+)= x [tokens, k] · wᵀ` with x, w [n, k] bf16, for at most
    /// `gemvMaxTokens` tokens and k a multiple of 8; y f32 (added to when `accumulate`) or bf16.
    public func gemv(weight: CUdeviceptr, input: CUdeviceptr, output: CUdeviceptr, tokens: Int, n: Int, k: Int,
                     outputF32: Bool, accumulate: Bool) throws {
        precondition(tokens <= Self.gemvMaxTokens && k % 8 == 0, "gemv takes at most 4 tokens and k % 8 == 0")
        try device.launch(gemvFunction, name: "tern_gemv", grid: ((n + 7) / 8, 1, 1), block: (256, 1, 1),
                          .pointer(weight), .pointer(input), .pointer(output), .int32(Int32(n)), .int32(Int32(k)),
                          .int32(Int32(tokens)), .int32(outputF32 ? 1 : 0), .int32(accumulate ? 1 : 0))
    }

    /// ids [rows] i32 from logits [rows, vocab] f32: greedy where temperatures [rows] f32 is 0,
    /// else a seeded draw (Gumbel-max) keyed by keys [rows] u64.
    public func sample(logits: CUdeviceptr, temperatures: CUdeviceptr, keys: CUdeviceptr, ids: CUdeviceptr,
                       rows: Int, vocabulary: Int) throws {
        try device.launch(sampleFunction, name: "tern_sample", grid: (rows, 1, 1), block: (1024, 1, 1),
                          .pointer(logits), .int32(Int32(vocabulary)), .pointer(temperatures), .pointer(keys),
                          .pointer(ids))
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
                               kvHeads: Int, headDim: Int, slidingWindow: Int, out: CUdeviceptr) throws {
        try device.launch(tiledAttentionFunction, name: "tern_attention_tiled", grid: (tileCount, kvHeads, 1),
                          block: (128, 1, 1), sharedBytes: Self.tiledAttentionSharedBytes(headDim: headDim),
                          .pointer(query), .pointer(keyCache), .pointer(valueCache), .pointer(queryStart),
                          .pointer(sequenceLengths), .pointer(blockTable), .pointer(tiles), .int32(Int32(maxBlocks)),
                          .int32(Int32(blockSize)), .int32(Int32(heads)), .int32(Int32(kvHeads)),
                          .int32(Int32(headDim)), .float(1 / Float(headDim).squareRoot()),
                          .int32(Int32(slidingWindow)), .pointer(out))
    }

    /// Paged attention of query [tokens, heads, headDim] bf16 over the caches through
    /// blockTable [sequences, maxBlocks] i32, with queryStart [sequences + 1] and
    /// sequenceLengths [sequences] i32; out [tokens, heads · headDim] bf16. `maxSequenceLength`
    /// (the longest context of the step) sets how finely keys are split across the GPU.
    /// heads / kvHeads at most 8; headDim a multiple of 32, at most 256.
    public func pagedAttention(query: CUdeviceptr, keyCache: CUdeviceptr, valueCache: CUdeviceptr,
                               queryStart: CUdeviceptr, sequenceLengths: CUdeviceptr, blockTable: CUdeviceptr,
                               tokens: Int, sequences: Int, maxBlocks: Int, maxSequenceLength: Int, blockSize: Int,
                               heads: Int, kvHeads: Int, headDim: Int, slidingWindow: Int,
                               partials: AttentionPartials, out: CUdeviceptr) throws {
        let rows = tokens * kvHeads
        let wanted = (2 * device.multiprocessorCount + rows - 1) / rows
        let useful = max(1, maxSequenceLength / Self.minimumKeysPerPartition)
        let partitions = max(1, min(wanted, useful, partials.capacity / (tokens * heads)))
        let group = heads / kvHeads
        let shared = group * (headDim + 128) * 4 + 128 * 8
        try device.launch(attentionFunction, name: "tern_attention_partial", grid: (tokens, kvHeads, partitions),
                          block: (128, 1, 1), sharedBytes: shared,
                          .pointer(query), .pointer(keyCache), .pointer(valueCache), .pointer(queryStart),
                          .pointer(sequenceLengths), .pointer(blockTable), .int32(Int32(sequences)),
                          .int32(Int32(maxBlocks)), .int32(Int32(blockSize)), .int32(Int32(heads)),
                          .int32(Int32(kvHeads)), .int32(Int32(headDim)), .float(1 / Float(headDim).squareRoot()),
                          .int32(Int32(slidingWindow)), .pointer(partials.values.address),
                          .pointer(partials.maxima.address), .pointer(partials.sums.address))
        try device.launch(combineFunction, name: "tern_attention_combine", grid: (tokens, heads, 1),
                          block: (headDim, 1, 1),
                          .pointer(partials.values.address), .pointer(partials.maxima.address),
                          .pointer(partials.sums.address), .pointer(out), .int32(Int32(heads)),
                          .int32(Int32(headDim)), .int32(Int32(partitions)))
    }
}

/// Scratch of the split attention: per (token, head, piece) a weighted value vector
/// [headDim] f32, a max and a sum. `capacity` pieces fit.
public final class AttentionPartials {
    public let capacity: Int
    let values: DeviceMemory
    let maxima: DeviceMemory
    let sums: DeviceMemory

    public init(device: CUDADevice, capacity: Int, headDim: Int) throws {
        self.capacity = capacity
        values = try device.allocate(bytes: capacity * headDim * 4, label: "attention partials")
        maxima = try device.allocate(bytes: capacity * 4, label: "attention maxima")
        sums = try device.allocate(bytes: capacity * 4, label: "attention sums")
    }

    public var bytes: Int { values.bytes + maxima.bytes + sums.bytes }
}
