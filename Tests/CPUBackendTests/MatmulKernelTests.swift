import CTernKernels
import Testing

/// tern_matmul against double-precision dot products with the gguf-dequantized weights.
/// The error of an output is measured against Σ|w·x| of its dot product, the scale that
/// f32 rounding errors grow with (a plain relative error is meaningless near 0).
@Suite struct MatmulKernelTests {
    static let tokenCounts = [1, 3, 8, 33]
    static let tolerance = 1e-5

    /// Y = X·Wᵀ in Double for the first `rows` rows of W, and Σ|w·x| of each output.
    static func reference(_ w: [Float], rows: Int, cols: Int, x: [Float], tokens: Int)
        -> (y: [Double], scale: [Double])
    {
        var y = [Double](repeating: 0, count: tokens * rows)
        var scale = y
        w.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { x in
                for t in 0..<tokens {
                    for r in 0..<rows {
                        var sum = 0.0, mag = 0.0
                        for c in 0..<cols {
                            let p = Double(w[r * cols + c]) * Double(x[t * cols + c])
                            sum += p
                            mag += abs(p)
                        }
                        y[t * rows + r] = sum
                        scale[t * rows + r] = mag
                    }
                }
            }
        }
        return (y, scale)
    }

    @Test func everyTypeEveryPathMatchesReference() throws {
        let pool = try #require(tern_pool_create(3))
        defer { tern_pool_destroy(pool) }
        var rng = SeededGenerator(seed: 11)
        let fixtures = try QuantFixture.all()
        let inputs = Self.tokenCounts.map { [Float].random($0 * fixtures[0].cols, using: &rng) }
        // References once per (type, tokens); rows 5 and 1 are prefixes of the 13.
        let references = fixtures.map { f in
            zip(Self.tokenCounts, inputs).map { Self.reference(f.values, rows: f.rows, cols: f.cols, x: $1, tokens: $0) }
        }
        KernelPaths.forEach { path in
            for (fi, f) in fixtures.enumerated() {
                for (ti, tokens) in Self.tokenCounts.enumerated() {
                    let ref = references[fi][ti]
                    for rows in [f.rows, 5, 1] {
                        let want = (0..<tokens).flatMap { t in (0..<rows).map { ref.y[t * f.rows + $0] } }
                        let scale = (0..<tokens).flatMap { t in (0..<rows).map { ref.scale[t * f.rows + $0] } }
                        for threaded in [false, true] {
                            var y = [Float](repeating: .nan, count: tokens * rows)
                            tern_matmul(threaded ? pool : nil, f.blocks, f.type, Int64(rows), Int64(f.cols),
                                        inputs[ti], Int64(tokens), &y, 0)
                            let err = maxRelativeError(y, want, scale: scale)
                            #expect(err < Self.tolerance,
                                    "\(f) \(path) rows \(rows) tokens \(tokens) threaded \(threaded): error \(err)")
                        }
                    }
                }
            }
        }
    }

    @Test func accumulateAddsToOutput() throws {
        let pool = try #require(tern_pool_create(2))
        defer { tern_pool_destroy(pool) }
        var rng = SeededGenerator(seed: 12)
        for f in try QuantFixture.all() where ["Q4_1", "Q8_0", "Q6_K", "BF16"].contains(f.name) {
            let tokens = 8
            let x = [Float].random(tokens * f.cols, using: &rng)
            let initial = [Float].random(tokens * f.rows, in: -4...4, using: &rng)
            let ref = Self.reference(f.values, rows: f.rows, cols: f.cols, x: x, tokens: tokens)
            let want = zip(ref.y, initial).map { $0 + Double($1) }
            let scale = zip(ref.scale, initial).map { $0 + abs(Double($1)) }
            KernelPaths.forEach { path in
                var y = initial
                tern_matmul(pool, f.blocks, f.type, Int64(f.rows), Int64(f.cols), x, Int64(tokens), &y, 1)
                let err = maxRelativeError(y, want, scale: scale)
                #expect(err < Self.tolerance, "\(f) \(path) accumulate: error \(err)")
            }
        }
    }

    /// Plain types take any number of columns; the SIMD kernels finish a row's cols % 32
    /// tail in scalar code.
    @Test func plainTypesWithRaggedColumns() throws {
        var rng = SeededGenerator(seed: 13)
        let rows = 7, cols = 77, tokens = 5
        let values = [Float].random(rows * cols, using: &rng)
        let x = [Float].random(tokens * cols, using: &rng)
        let halves = values.map { Float16($0) }
        let brains = values.map { UInt16($0.bitPattern >> 16) }
        let cases: [(name: String, type: Int32, bytes: [UInt8], weights: [Float])] = [
            ("F32", 0, values.withUnsafeBytes { Array($0) }, values),
            ("F16", 1, halves.withUnsafeBytes { Array($0) }, halves.map { Float($0) }),
            ("BF16", 30, brains.withUnsafeBytes { Array($0) }, brains.map { Float(bitPattern: UInt32($0) << 16) }),
        ]
        for c in cases {
            let ref = Self.reference(c.weights, rows: rows, cols: cols, x: x, tokens: tokens)
            KernelPaths.forEach { path in
                var y = [Float](repeating: .nan, count: tokens * rows)
                tern_matmul(nil, c.bytes, c.type, Int64(rows), Int64(cols), x, Int64(tokens), &y, 0)
                let err = maxRelativeError(y, ref.y, scale: ref.scale)
                #expect(err < Self.tolerance, "\(c.name) \(path) cols \(cols): error \(err)")
            }
        }
    }

    /// Many rows over many tasks, and more tokens than one token block (64).
    @Test func largeShapeSplitsOverTasksAndTokenBlocks() throws {
        let pool = try #require(tern_pool_create(4))
        defer { tern_pool_destroy(pool) }
        var rng = SeededGenerator(seed: 14)
        let fixture = try #require(try QuantFixture.all().first { $0.name == "Q4_0" })
        let rowBytes = fixture.blocks.count / fixture.rows
        // 13 fixture rows repeated to 261 rows.
        let rows = 261, tokens = 70, cols = fixture.cols
        let blocks = (0..<rows).flatMap { fixture.blocks[($0 % 13) * rowBytes..<($0 % 13 + 1) * rowBytes] }
        let weights = (0..<rows).flatMap { fixture.values[($0 % 13) * cols..<($0 % 13 + 1) * cols] }
        let x = [Float].random(tokens * cols, using: &rng)
        let ref = Self.reference(weights, rows: rows, cols: cols, x: x, tokens: tokens)
        var y = [Float](repeating: .nan, count: tokens * rows)
        tern_matmul(pool, blocks, fixture.type, Int64(rows), Int64(cols), x, Int64(tokens), &y, 0)
        let err = maxRelativeError(y, ref.y, scale: ref.scale)
        #expect(err < Self.tolerance, "error \(err)")
    }

    /// Several matrices in one pool run give exactly what each gives alone (on one kernel
    /// path: a test switching paths meanwhile would compare two equally correct paths).
    @Test func manyMatricesMatchSeparateCalls() throws {
        try KernelPaths.holding { try compareManyWithSeparateCalls() }
    }

    private func compareManyWithSeparateCalls() throws {
        let pool = try #require(tern_pool_create(3))
        defer { tern_pool_destroy(pool) }
        var rng = SeededGenerator(seed: 15)
        for fixture in try QuantFixture.all() {
            let rowBytes = fixture.blocks.count / fixture.rows
            let rows: [Int64] = [13, 5, 8]
            let parts = rows.map { Array(fixture.blocks[0..<Int($0) * rowBytes]) }
            for tokens in [1, 8] {
                let x = [Float].random(tokens * fixture.cols, using: &rng)
                let alone = zip(parts, rows).map { part, count in
                    var y = [Float](repeating: .nan, count: tokens * Int(count))
                    tern_matmul(pool, part, fixture.type, count, Int64(fixture.cols), x, Int64(tokens), &y, 0)
                    return y
                }
                let outputs = rows.map { UnsafeMutablePointer<Float>.allocate(capacity: tokens * Int($0)) }
                defer { outputs.forEach { $0.deallocate() } }
                parts[0].withUnsafeBytes { w0 in
                    parts[1].withUnsafeBytes { w1 in
                        parts[2].withUnsafeBytes { w2 in
                            let weights = [w0.baseAddress, w1.baseAddress, w2.baseAddress]
                            let ys: [UnsafeMutablePointer<Float>?] = outputs
                            tern_matmul_many(pool, 3, weights, rows, fixture.type, Int64(fixture.cols), x,
                                             Int64(tokens), ys, 0)
                        }
                    }
                }
                for (i, count) in rows.enumerated() {
                    let together = Array(UnsafeBufferPointer(start: outputs[i], count: tokens * Int(count)))
                    #expect(together == alone[i], "\(fixture) part \(i) tokens \(tokens)")
                }
            }
        }
    }
}
