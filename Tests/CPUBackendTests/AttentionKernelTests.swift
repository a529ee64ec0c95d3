import CTernKernels
import Foundation
import Testing

/// tern_kv_write and tern_paged_attention against a naive Double softmax attention.
@Suite struct AttentionKernelTests {
    /// A ragged batch: per sequence (new query tokens, context length after the step).
    static let sequences: [(qLen: Int, seqLen: Int)] = [(1, 9), (5, 5), (20, 37), (35, 70)]

    struct Batch {
        let blockSize: Int
        let nHeads: Int
        let nKVHeads: Int
        let headDim: Int
        let q: [Float]             // [tokens, nHeads, headDim]
        let keys: [[Float]]        // per sequence: [seqLen, nKVHeads * headDim]
        let values: [[Float]]
        let kCache: [Float]        // [numBlocks, blockSize, nKVHeads, headDim]
        let vCache: [Float]
        let queryStart: [Int32]
        let seqLens: [Int32]
        let blockTable: [Int32]    // [nSeqs, maxBlocks]
        let maxBlocks: Int
    }

    /// Random K/V for every position, written through tern_kv_write into shuffled blocks;
    /// unused slots hold NaN so that reading one would poison the output.
    static func makeBatch(blockSize: Int, nHeads: Int, nKVHeads: Int, headDim: Int, seed: UInt64,
                          sequences: [(qLen: Int, seqLen: Int)] = sequences) -> Batch {
        var rng = SeededGenerator(seed: seed)
        let kvDim = nKVHeads * headDim
        let maxBlocks = sequences.map { ($0.seqLen + blockSize - 1) / blockSize }.max()!
        let needed = sequences.reduce(0) { $0 + ($1.seqLen + blockSize - 1) / blockSize }
        let numBlocks = needed + 5
        var free = Array(1..<numBlocks).shuffled(using: &rng)
        var table = [Int32](repeating: 0, count: sequences.count * maxBlocks)
        var kCache = [Float](repeating: .nan, count: numBlocks * blockSize * kvDim)
        var vCache = kCache
        var keys: [[Float]] = [], values: [[Float]] = []
        for (s, seq) in sequences.enumerated() {
            for b in 0..<(seq.seqLen + blockSize - 1) / blockSize { table[s * maxBlocks + b] = Int32(free.removeLast()) }
            let k = [Float].random(seq.seqLen * kvDim, using: &rng)
            let v = [Float].random(seq.seqLen * kvDim, using: &rng)
            var slots = (0..<seq.seqLen).map { Int64(table[s * maxBlocks + $0 / blockSize]) * Int64(blockSize) + Int64($0 % blockSize) }
            // A skipped row (slot -1) carrying garbage must not land anywhere.
            var kRows = k, vRows = v
            slots.append(-1)
            kRows += [Float](repeating: 1e9, count: kvDim)
            vRows += [Float](repeating: 1e9, count: kvDim)
            tern_kv_write(kRows, vRows, Int64(slots.count), Int64(kvDim), slots, &kCache, &vCache)
            keys.append(k)
            values.append(v)
        }
        let tokens = sequences.reduce(0) { $0 + $1.qLen }
        var starts: [Int32] = [0]
        for seq in sequences { starts.append(starts.last! + Int32(seq.qLen)) }
        return Batch(blockSize: blockSize, nHeads: nHeads, nKVHeads: nKVHeads, headDim: headDim,
                     q: .random(tokens * nHeads * headDim, using: &rng), keys: keys, values: values,
                     kCache: kCache, vCache: vCache, queryStart: starts,
                     seqLens: sequences.map { Int32($0.seqLen) }, blockTable: table, maxBlocks: maxBlocks)
    }

    /// With `sinks` [nHeads], head h's sink logit joins each softmax's denominator.
    static func reference(_ b: Batch, scale: Double, window: Int, softcap: Double = 0, sinks: [Float]? = nil,
                          sequences: [(qLen: Int, seqLen: Int)] = sequences) -> [Double] {
        let hd = b.headDim, nHeads = b.nHeads, kvDim = b.nKVHeads * hd, group = nHeads / b.nKVHeads
        var out: [Double] = []
        var scores: [Double] = []
        for (s, seq) in sequences.enumerated() {
            b.keys[s].withUnsafeBufferPointer { keys in
                b.values[s].withUnsafeBufferPointer { values in
                    b.q.withUnsafeBufferPointer { q in
                        for j in 0..<seq.qLen {
                            let row = Int(b.queryStart[s]) + j
                            let pos = seq.seqLen - seq.qLen + j
                            let first = window > 0 ? max(0, pos - window + 1) : 0
                            for h in 0..<nHeads {
                                let qBase = (row * nHeads + h) * hd, kvOffset = (h / group) * hd
                                scores.removeAll(keepingCapacity: true)
                                for t in first...pos {
                                    var dot = 0.0
                                    for d in 0..<hd { dot += Double(q[qBase + d]) * Double(keys[t * kvDim + kvOffset + d]) }
                                    scores.append(softcap > 0 ? tanh(dot * scale / softcap) * softcap : dot * scale)
                                }
                                let sink = sinks.map { Double($0[h]) }
                                let top = max(scores.max()!, sink ?? -.infinity)
                                for i in scores.indices { scores[i] = exp(scores[i] - top) }
                                let total = scores.reduce(0, +) + (sink.map { exp($0 - top) } ?? 0)
                                for d in 0..<hd {
                                    var acc = 0.0
                                    for t in first...pos { acc += scores[t - first] * Double(values[t * kvDim + kvOffset + d]) }
                                    out.append(acc / total)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// tern_paged_attention on `b` (whose `sequences` they are) with `pool` (nil: no threads).
    static func attend(_ b: Batch, sequences: [(qLen: Int, seqLen: Int)] = sequences, pool: OpaquePointer?,
                       scale: Double, window: Int, softcap: Float = 0, sinks: [Float]? = nil) -> [Float] {
        let tokens = sequences.reduce(0) { $0 + $1.qLen }
        var out = [Float](repeating: .nan, count: tokens * b.nHeads * b.headDim)
        func run(_ sinks: UnsafePointer<Float>?) {
            tern_paged_attention(pool, b.q, b.kCache, b.vCache, Int32(b.blockSize), Int32(b.nHeads), Int32(b.nKVHeads),
                                 Int32(b.headDim), Int32(sequences.count), b.queryStart, b.seqLens, b.blockTable,
                                 Int32(b.maxBlocks), Float(scale), Int32(window), softcap, sinks, &out)
        }
        if let sinks { sinks.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        return out
    }

    /// (block size, query heads, kv heads, head_dim, sliding window). Prefill chunks give
    /// the many-row kernel partial key groups (block 4), full ones (16) and several per
    /// block (32); 70 heads over one kv head is more rows than a work item holds. Decode
    /// rows of one GQA group share their keys (groups of 2, 3 and 6 = 3 + 3, head_dim 32,
    /// 48 and 64 for the group kernel's partial and whole 64-dim chunks).
    @Test(arguments: [(4, 6, 2, 20, 0), (16, 6, 2, 64, 0), (16, 6, 2, 64, 6), (32, 6, 2, 20, 3),
                      (32, 9, 3, 64, 0), (16, 4, 4, 16, 0), (4, 70, 1, 8, 0), (16, 3, 1, 200, 10),
                      (16, 4, 2, 32, 0), (16, 6, 1, 48, 5)])
    func pagedAttentionMatchesNaiveSoftmax(blockSize: Int, nHeads: Int, nKVHeads: Int, headDim: Int, window: Int) throws {
        let batch = Self.makeBatch(blockSize: blockSize, nHeads: nHeads, nKVHeads: nKVHeads, headDim: headDim,
                                   seed: UInt64(blockSize * 1_000_000 + nHeads * 10_000 + headDim * 100 + window))
        let scale = 1 / Double(headDim).squareRoot()
        let want = Self.reference(batch, scale: scale, window: window)
        let pool = try #require(tern_pool_create(3))
        defer { tern_pool_destroy(pool) }
        KernelPaths.forEach { path in
            for threaded in [false, true] {
                let out = Self.attend(batch, pool: threaded ? pool : nil, scale: scale, window: window)
                let err = maxRelativeError(out, want, scale: [Double](repeating: 1, count: want.count))
                #expect(err < 1e-5, "\(path) block \(blockSize) heads \(nHeads)/\(nKVHeads) head_dim \(headDim) window \(window) threaded \(threaded): error \(err)")
            }
        }
    }

    /// Gemma 2's soft-capped scores (a cap small enough to bite), with and without a window.
    @Test(arguments: [(16, 6, 2, 64, 0), (4, 8, 4, 32, 7)])
    func softcappedAttentionMatchesNaiveSoftmax(blockSize: Int, nHeads: Int, nKVHeads: Int, headDim: Int, window: Int) throws {
        let batch = Self.makeBatch(blockSize: blockSize, nHeads: nHeads, nKVHeads: nKVHeads, headDim: headDim,
                                   seed: UInt64(77 + window))
        let scale = 2 / Double(headDim).squareRoot()
        let want = Self.reference(batch, scale: scale, window: window, softcap: 1.5)
        let pool = try #require(tern_pool_create(3))
        defer { tern_pool_destroy(pool) }
        let out = Self.attend(batch, pool: pool, scale: scale, window: window, softcap: 1.5)
        let err = maxRelativeError(out, want, scale: [Double](repeating: 1, count: want.count))
        #expect(err < 1e-5, "window \(window): error \(err)")
    }

    /// Decode of one or two long sequences: too few work items for the threads, so each
    /// item's keys are split over tasks and the partial softmaxes merged.
    @Test(arguments: [0, 100])
    func decodeSplitOverKeysMatchesNaiveSoftmax(window: Int) throws {
        for sequences in [[(qLen: 1, seqLen: 700)], [(qLen: 1, seqLen: 300), (qLen: 2, seqLen: 520)]] {
            let batch = Self.makeBatch(blockSize: 16, nHeads: 9, nKVHeads: 3, headDim: 64, seed: UInt64(window + 7),
                                       sequences: sequences)
            let scale = 1 / Double(64).squareRoot()
            let want = Self.reference(batch, scale: scale, window: window, sequences: sequences)
            for threads in [2, 4] {
                let pool = try #require(tern_pool_create(Int32(threads)))
                defer { tern_pool_destroy(pool) }
                let out = Self.attend(batch, sequences: sequences, pool: pool, scale: scale, window: window)
                let err = maxRelativeError(out, want, scale: [Double](repeating: 1, count: want.count))
                #expect(err < 1e-5, "\(sequences) window \(window) threads \(threads): error \(err)")
            }
        }
    }

    /// gpt-oss's attention sinks (one logit per head, some above every score, some far below)
    /// on prefill chunks and on decodes whose keys are split over tasks, with and without a window.
    @Test(arguments: [0, 6])
    func attentionWithSinksMatchesNaiveSoftmax(window: Int) throws {
        let sinks: [Float] = [-20, 0.5, 3, -1, 8, 0]
        for sequences in [Self.sequences, [(qLen: 1, seqLen: 700)]] {
            let batch = Self.makeBatch(blockSize: 16, nHeads: 6, nKVHeads: 2, headDim: 32, seed: UInt64(window + 11),
                                       sequences: sequences)
            let scale = 1 / Double(32).squareRoot()
            let want = Self.reference(batch, scale: scale, window: window, sinks: sinks, sequences: sequences)
            let pool = try #require(tern_pool_create(4))
            defer { tern_pool_destroy(pool) }
            KernelPaths.forEach { path in
                let out = Self.attend(batch, sequences: sequences, pool: pool, scale: scale, window: window, sinks: sinks)
                let err = maxRelativeError(out, want, scale: [Double](repeating: 1, count: want.count))
                #expect(err < 1e-5, "\(path) \(sequences.count) sequences window \(window): error \(err)")
            }
        }
    }

    @Test func kvWriteSkipsNegativeSlots() {
        let kvDim = 3
        let k: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let v = k.map { -$0 }
        var kCache = [Float](repeating: 0, count: 4 * kvDim)
        var vCache = kCache
        tern_kv_write(k, v, 3, Int64(kvDim), [2, -1, 0], &kCache, &vCache)
        #expect(kCache == [7, 8, 9, 0, 0, 0, 1, 2, 3, 0, 0, 0])
        #expect(vCache == [-7, -8, -9, 0, 0, 0, -1, -2, -3, 0, 0, 0])
    }
}
