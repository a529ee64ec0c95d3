import CUDABackend

/// The device buffers of one forward step, allocated once for the largest step, and the
/// step's inputs (token ids, positions, slots, block table...) packed into one pinned host
/// buffer and sent with one copy.
final class StepBuffers {
    let residual: DeviceMemory      // [T, hidden] f32
    let normed: DeviceMemory        // [T, hidden] bf16
    let qkv: DeviceMemory           // [T, qDim + 2 kvDim] f32
    let query: DeviceMemory         // [T, qDim] bf16
    let attention: DeviceMemory     // [T, qDim] bf16
    let gateUp: DeviceMemory        // [T, 2 intermediate] bf16
    let mlp: DeviceMemory           // [T, intermediate] bf16
    /// [T, hidden] f32: a block's output before its own norm (Gemma's sandwich norms), else nil.
    let projected: DeviceMemory?
    /// A GEMM's input as FP8 [T, largest input] and its per-token scales [T] f32
    /// (`--quantization fp8`), else nil.
    let fp8Input: (values: DeviceMemory, scales: DeviceMemory)?
    let lastHidden: DeviceMemory    // [B', hidden] bf16
    let logits: DeviceMemory        // [B', vocab] f32
    let partials: AttentionPartials
    /// Pinned host copy of the logits [B', vocab] f32, returned by `execute`.
    let hostLogits: UnsafeMutablePointer<Float>
    let sampledIDs: DeviceMemory    // [B'] i32
    let samplingCandidates: SamplingCandidates
    /// Pinned host copy of the sampled ids [B'], returned by `executeSampling`.
    let hostSampledIDs: UnsafeMutablePointer<Int32>
    let maxBlocksPerSequence: Int
    /// Logits rows the buffers hold (the most sequences of a step).
    let logitsRows: Int
    private let inputs: DeviceMemory
    private let hostInputs: UnsafeMutableRawPointer
    private let inputCapacity: Int
    let bytes: Int

    // Device addresses of this step's inputs, inside `inputs`.
    private(set) var slotMapping: CUdeviceptr = 0          // [T] i64
    private(set) var tokenIDs: CUdeviceptr = 0             // [T] i32
    private(set) var positions: CUdeviceptr = 0            // [T] i32
    private(set) var queryStartLocations: CUdeviceptr = 0  // [B + 1] i32
    private(set) var sequenceLengths: CUdeviceptr = 0      // [B] i32
    private(set) var logitsIndices: CUdeviceptr = 0        // [B'] i32
    private(set) var blockTable: CUdeviceptr = 0           // [B, maxBlocks] i32
    /// [tiles, 3] i32 (sequence, first token, tokens): the query tiles of the tiled attention.
    private(set) var attentionTiles: CUdeviceptr = 0
    private(set) var attentionTileCount = 0
    /// Tokens in a query tile: 64 query rows over the query heads of one KV head.
    let tokensPerTile: Int
    private var tiles: [Int32] = []
    private(set) var temperatures: CUdeviceptr = 0         // [B'] f32, when sampling on the device
    private(set) var samplingKeys: CUdeviceptr = 0         // [B'] u64, when sampling on the device
    private(set) var topKs: CUdeviceptr = 0                // [B'] i32, when sampling on the device
    private(set) var topPs: CUdeviceptr = 0                // [B'] f32, when sampling on the device
    private(set) var minPs: CUdeviceptr = 0                // [B'] f32, when sampling on the device
    /// This step's logit adjustments (rows, tokens [E] i32, values [E, 3] f32, masks [E] i32).
    private(set) var adjustmentRows: CUdeviceptr = 0
    private(set) var adjustmentTokens: CUdeviceptr = 0
    private(set) var adjustmentValues: CUdeviceptr = 0
    private(set) var adjustmentMasks: CUdeviceptr = 0
    private(set) var adjustmentCount = 0
    /// Grown to the largest set of adjustments seen (a step with none leaves it alone).
    private var adjustments: DeviceMemory?
    private var hostAdjustments: [UInt8] = []
    /// A constrained step's sampling inputs, sent once its forward pass is queued: the token
    /// masks [masked, words] u32 first, then the rows' parameters and the masked rows' indices
    /// (pinned host and device, sized for every row at the first such step).
    private var maskedSampling: (device: DeviceMemory, host: UnsafeMutableRawPointer, capacity: Int)?
    private(set) var maskRows: CUdeviceptr = 0             // [masked] i32
    private(set) var tokenMasks: CUdeviceptr = 0           // [masked, words] u32
    /// The longest context of this step.
    private(set) var maxSequenceLength = 0

    init(config c: ModelConfig, device: CUDADevice, maxTokens: Int, maxSequences: Int,
         maxBlocksPerSequence: Int, fp8: Bool = false) throws {
        func buffer(_ elements: Int, _ elementBytes: Int, _ label: String) throws -> DeviceMemory {
            try device.allocate(bytes: elements * elementBytes, label: label)
        }
        residual = try buffer(maxTokens * c.hiddenSize, 4, "residual")
        normed = try buffer(maxTokens * c.hiddenSize, 2, "normed activations")
        qkv = try buffer(maxTokens * (c.qDim + 2 * c.kvDim), 4, "qkv")
        query = try buffer(maxTokens * c.qDim, 2, "query")
        attention = try buffer(maxTokens * c.qDim, 2, "attention output")
        gateUp = try buffer(maxTokens * 2 * c.intermediateSize, 2, "gate_up")
        mlp = try buffer(maxTokens * c.intermediateSize, 2, "mlp activations")
        projected = c.family.isGemma ? try buffer(maxTokens * c.hiddenSize, 4, "block outputs") : nil
        fp8Input = fp8 ? (try buffer(maxTokens * max(c.hiddenSize, c.qDim, c.intermediateSize), 1, "FP8 GEMM input"),
                          try buffer(maxTokens, 4, "FP8 GEMM input scales")) : nil
        lastHidden = try buffer(maxSequences * c.hiddenSize, 2, "final hidden rows")
        logits = try buffer(maxSequences * c.vocabularySize, 4, "logits")
        // Room to split each (token, head) of a full step in two, and a short step much more.
        partials = try AttentionPartials(device: device, capacity: max(2 * maxTokens * c.headCount, 1 << 14),
                                         headDim: c.headDim, counterCount: maxTokens * c.kvHeadCount)
        hostLogits = try device.allocateHost(bytes: maxSequences * c.vocabularySize * 4)
            .bindMemory(to: Float.self, capacity: maxSequences * c.vocabularySize)
        sampledIDs = try buffer(maxSequences, 4, "sampled ids")
        samplingCandidates = try SamplingCandidates(device: device, rows: maxSequences)
        hostSampledIDs = try device.allocateHost(bytes: maxSequences * 4).bindMemory(to: Int32.self, capacity: maxSequences)
        self.maxBlocksPerSequence = maxBlocksPerSequence
        logitsRows = maxSequences
        tokensPerTile = max(1, CUDAKernels.tiledAttentionRows / (c.headCount / c.kvHeadCount))
        inputCapacity = 16 * 16 + maxTokens * 28 + maxSequences * (52 + 4 * maxBlocksPerSequence) + 4
        inputs = try device.allocate(bytes: inputCapacity, label: "step inputs")
        hostInputs = try device.allocateHost(bytes: inputCapacity)
        bytes = [residual, normed, qkv, query, attention, gateUp, mlp, lastHidden, logits, sampledIDs, inputs]
            .reduce(partials.bytes + samplingCandidates.bytes + (projected?.bytes ?? 0)
                        + (fp8Input.map { $0.values.bytes + $0.scales.bytes } ?? 0)) { $0 + $1.bytes }
    }

    /// Copies `array` into the pinned buffer `host` at `offset` and returns where it will be in
    /// the device buffer `device` once the whole buffer is sent; `offset` moves on by the
    /// array's bytes, rounded up to 16.
    private static func place<T>(_ array: [T], host: UnsafeMutableRawPointer, device: CUdeviceptr,
                                 offset: inout Int) -> CUdeviceptr {
        let bytes = array.count * MemoryLayout<T>.stride
        let start = offset
        array.withUnsafeBytes { source in
            if let base = source.baseAddress { (host + start).copyMemory(from: base, byteCount: bytes) }
        }
        offset += (bytes + 15) & ~15
        return device + UInt64(start)
    }

    /// Packs `batch` (and the sampling of its logits rows, if given) and queues its copy to the
    /// device; throws if it exceeds the limits the buffers were sized for.
    func upload(_ batch: ForwardBatch, sampling: [DeviceSamplingRow]? = nil, limits: (tokens: Int, sequences: Int),
                device: CUDADevice) throws {
        let tokens = batch.tokenCount
        let sequences = batch.sequenceCount
        guard tokens <= limits.tokens, sequences <= limits.sequences,
              batch.logitsIndices.count <= limits.sequences,
              batch.maxBlocksPerSequence <= maxBlocksPerSequence else {
            throw CUDAError.unsupported("step of \(tokens) tokens, \(sequences) sequences and \(batch.maxBlocksPerSequence) blocks per sequence exceeds the buffers sized for \(limits.tokens) tokens, \(limits.sequences) sequences and \(maxBlocksPerSequence) blocks")
        }
        guard batch.positions.count == tokens, batch.slotMapping.count == tokens,
              batch.queryStartLocations.count == sequences + 1,
              batch.blockTable.count == sequences * batch.maxBlocksPerSequence else {
            throw CUDAError.unsupported("malformed batch: array lengths disagree with \(tokens) tokens and \(sequences) sequences")
        }
        var offset = 0
        func place<T>(_ array: [T]) -> CUdeviceptr {
            Self.place(array, host: hostInputs, device: inputs.address, offset: &offset)
        }
        slotMapping = place(batch.slotMapping)
        tokenIDs = place(batch.tokenIDs)
        positions = place(batch.positions)
        queryStartLocations = place(batch.queryStartLocations)
        sequenceLengths = place(batch.sequenceLengths)
        logitsIndices = place(batch.logitsIndices)
        blockTable = place(batch.blockTable)
        if let sampling {
            temperatures = place(sampling.map(\.temperature))
            samplingKeys = place(sampling.map(\.key))
            topKs = place(sampling.map(\.topK))
            topPs = place(sampling.map(\.topP))
            minPs = place(sampling.map(\.minP))
        }
        tiles.removeAll(keepingCapacity: true)
        for sequence in 0..<sequences {
            let start = Int(batch.queryStartLocations[sequence]), end = Int(batch.queryStartLocations[sequence + 1])
            for first in stride(from: start, to: end, by: tokensPerTile) {
                tiles.append(contentsOf: [Int32(sequence), Int32(first), Int32(min(tokensPerTile, end - first))])
            }
        }
        attentionTiles = place(tiles)
        attentionTileCount = tiles.count / 3
        maxSequenceLength = Int(batch.sequenceLengths.max() ?? 0)
        try device.copyAsync(to: inputs.address, from: hostInputs, bytes: offset)
    }

    /// Packs the decode step `batch` (one token a sequence, each a logits row) padded to
    /// `bucket` sequences, with the block table at row stride `maxBlocks`, and queues its copy.
    /// The layout depends only on (`bucket`, `maxBlocks`), so a graph captured after one such
    /// upload reads every later one. Padding rows write no cache slot (-1), attend to one key
    /// of the null block and sample greedily; their results are ignored.
    func uploadPadded(_ batch: ForwardBatch, sampling: [DeviceSamplingRow]?, bucket: Int, maxBlocks: Int,
                      device: CUDADevice) throws {
        let n = batch.sequenceCount
        guard n <= bucket, batch.tokenCount == n, batch.maxBlocksPerSequence <= maxBlocks,
              maxBlocks <= maxBlocksPerSequence, bucket * (80 + 4 * maxBlocks) + 16 * 16 <= inputCapacity else {
            throw CUDAError.unsupported("decode step of \(n) sequences does not fit the graph bucket \(bucket) x \(maxBlocks) blocks")
        }
        var offset = 0
        func region<T>(_ count: Int, _ type: T.Type) -> (UnsafeMutablePointer<T>, CUdeviceptr) {
            let pointer = (hostInputs + offset).bindMemory(to: T.self, capacity: count)
            let address = inputs.address + UInt64(offset)
            offset += (count * MemoryLayout<T>.stride + 15) & ~15
            return (pointer, address)
        }
        let (slots, slotAddress) = region(bucket, Int64.self)
        let (ids, idAddress) = region(bucket, Int32.self)
        let (positionValues, positionAddress) = region(bucket, Int32.self)
        let (starts, startAddress) = region(bucket + 1, Int32.self)
        let (lengths, lengthAddress) = region(bucket, Int32.self)
        let (indices, indexAddress) = region(bucket, Int32.self)
        let (table, tableAddress) = region(bucket * maxBlocks, Int32.self)
        let (temperatureValues, temperatureAddress) = region(bucket, Float.self)
        let (keys, keyAddress) = region(bucket, UInt64.self)
        let (topKValues, topKAddress) = region(bucket, Int32.self)
        let (topPValues, topPAddress) = region(bucket, Float.self)
        let (minPValues, minPAddress) = region(bucket, Float.self)
        let width = batch.maxBlocksPerSequence
        table.initialize(repeating: 0, count: bucket * maxBlocks)
        batch.blockTable.withUnsafeBufferPointer { source in
            for row in 0..<n {
                (table + row * maxBlocks).update(from: source.baseAddress! + row * width, count: width)
            }
        }
        for i in 0..<bucket {
            let real = i < n
            slots[i] = real ? batch.slotMapping[i] : -1
            ids[i] = real ? batch.tokenIDs[i] : 0
            positionValues[i] = real ? batch.positions[i] : 0
            starts[i] = Int32(i)
            lengths[i] = real ? batch.sequenceLengths[i] : 1
            indices[i] = Int32(i)
            temperatureValues[i] = real ? sampling?[i].temperature ?? 0 : 0
            keys[i] = real ? sampling?[i].key ?? 0 : 0
            topKValues[i] = real ? sampling?[i].topK ?? 0 : 0
            topPValues[i] = real ? sampling?[i].topP ?? 1 : 1
            minPValues[i] = real ? sampling?[i].minP ?? 0 : 0
        }
        starts[bucket] = Int32(bucket)
        slotMapping = slotAddress
        tokenIDs = idAddress
        positions = positionAddress
        queryStartLocations = startAddress
        sequenceLengths = lengthAddress
        logitsIndices = indexAddress
        blockTable = tableAddress
        temperatures = temperatureAddress
        samplingKeys = keyAddress
        topKs = topKAddress
        topPs = topPAddress
        minPs = minPAddress
        attentionTileCount = 0
        maxSequenceLength = Int(batch.sequenceLengths.max() ?? 0)
        try device.copyAsync(to: inputs.address, from: hostInputs, bytes: offset)
    }

    /// Host room for `count` token masks of `words` words, zeroed, to fill before
    /// `uploadMaskedSampling` sends them.
    func maskStorage(count: Int, words: Int, rows: Int, device: CUDADevice) throws -> UnsafeMutableBufferPointer<UInt32> {
        let needed = Self.maskedSamplingBytes(masked: count, words: words, rows: rows)
        if (maskedSampling?.capacity ?? 0) < needed {
            let capacity = max(needed, Self.maskedSamplingBytes(masked: logitsRows, words: words, rows: logitsRows))
            maskedSampling = (try device.allocate(bytes: capacity, label: "token masks"),
                              try device.allocateHost(bytes: capacity), capacity)
        }
        let masks = maskedSampling!.host.bindMemory(to: UInt32.self, capacity: count * words)
        masks.initialize(repeating: 0, count: count * words)
        return UnsafeMutableBufferPointer(start: masks, count: count * words)
    }

    private static func maskedSamplingBytes(masked: Int, words: Int, rows: Int) -> Int {
        ((masked * words * 4 + 15) & ~15) + 6 * ((rows * 8 + 15) & ~15) + ((masked * 4 + 15) & ~15)
    }

    /// Queues the copy of the masks filled in `maskStorage` and of `rows`' sampling parameters,
    /// which the sampling kernels then read in place of those `upload` sent.
    func uploadMaskedSampling(_ rows: [DeviceSamplingRow], maskRows masked: [Int32], words: Int,
                              device: CUDADevice) throws {
        guard let (memory, host, capacity) = maskedSampling,
              Self.maskedSamplingBytes(masked: masked.count, words: words, rows: rows.count) <= capacity else {
            throw CUDAError.unsupported("token masks were not prepared for \(masked.count) rows")
        }
        var offset = (masked.count * words * 4 + 15) & ~15
        func place<T>(_ array: [T]) -> CUdeviceptr {
            Self.place(array, host: host, device: memory.address, offset: &offset)
        }
        tokenMasks = memory.address
        temperatures = place(rows.map(\.temperature))
        samplingKeys = place(rows.map(\.key))
        topKs = place(rows.map(\.topK))
        topPs = place(rows.map(\.topP))
        minPs = place(rows.map(\.minP))
        maskRows = place(masked)
        try device.copyAsync(to: memory.address, from: host, bytes: offset)
    }

    /// Copies this step's logit adjustments to the device (waiting for the copy).
    func uploadAdjustments(_ list: [LogitAdjustment], device: CUDADevice) throws {
        adjustmentCount = list.count
        guard !list.isEmpty else { return }
        let count = list.count
        let bytes = count * 24
        if (adjustments?.bytes ?? 0) < bytes {
            adjustments = try device.allocate(bytes: max(bytes, 1 << 16), label: "logit adjustments")
        }
        hostAdjustments.removeAll(keepingCapacity: true)
        hostAdjustments.reserveCapacity(bytes)
        func append<T>(_ value: T) { withUnsafeBytes(of: value) { hostAdjustments.append(contentsOf: $0) } }
        for a in list { append(a.row) }
        for a in list { append(a.token) }
        for a in list {
            append(a.bias)
            append(a.repetition)
            append(a.subtract)
        }
        for a in list { append(Int32(a.masked ? 1 : 0)) }
        let base = adjustments!.address
        adjustmentRows = base
        adjustmentTokens = base + UInt64(count * 4)
        adjustmentValues = base + UInt64(count * 8)
        adjustmentMasks = base + UInt64(count * 20)
        try hostAdjustments.withUnsafeBytes { try device.copy(to: base, from: $0.baseAddress!, bytes: bytes) }
    }
}
