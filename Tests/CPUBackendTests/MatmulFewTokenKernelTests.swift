import CTernKernels
import Testing

/// Steps of a few tokens (a speculative verification step, a few decoding requests): the SIMD
/// kernels decode each weight once in registers for all of them, in one or two passes (up to
/// 10 tokens on AVX2, 16 on AVX-512), and take the prefill panels beyond. Checked for every
/// type and path at 1 to 12 tokens (one and two passes of every size, and the first step
/// past them), on 37 rows, with and without accumulate, against the gguf-dequantized weights
/// in Double; and, where one token takes the same f32 rows (the portable kernel; Q4_0, Q4_1
/// and the plain types on AVX2), each token's result bit for bit what it gets alone.
@Suite struct MatmulFewTokenKernelTests {
    /// Types whose one-token step on AVX2 takes the integer kernels (matmul_avx2_int.c).
    static let integerOnAVX2: Set<String> = ["Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"]

    /// A matrix of `rows` rows whose row r is the fixture's row r % 13: its blocks, and its
    /// gguf-dequantized values.
    static func repeated(_ f: QuantFixture, rows: Int) -> (blocks: [UInt8], values: [Float]) {
        let rowBytes = f.blocks.count / f.rows
        return ((0..<rows).flatMap { f.blocks[($0 % f.rows) * rowBytes..<($0 % f.rows + 1) * rowBytes] },
                (0..<rows).flatMap { f.values[($0 % f.rows) * f.cols..<($0 % f.rows + 1) * f.cols] })
    }

    @Test func fewTokensMatchReference() throws {
        let pool = try #require(tern_pool_create(2))
        defer { tern_pool_destroy(pool) }
        var rng = SeededGenerator(seed: 31)
        let rows = 37
        for f in try QuantFixture.all() {
            let (blocks, weights) = Self.repeated(f, rows: rows)
            for tokens in 1...12 {
                let x = (0..<tokens).flatMap { _ in MatmulDecodeKernelTests.activations(cols: f.cols, using: &rng) }
                let ref = MatmulKernelTests.reference(weights, rows: rows, cols: f.cols, x: x, tokens: tokens)
                let initial = [Float].random(tokens * rows, in: -4...4, using: &rng)
                KernelPaths.forEach { path in
                    for accumulate in [false, true] {
                        var y = accumulate ? initial : [Float](repeating: .nan, count: tokens * rows)
                        tern_matmul(pool, blocks, f.type, Int64(rows), Int64(f.cols), x, Int64(tokens), &y,
                                    accumulate ? 1 : 0)
                        let want = accumulate ? zip(ref.y, initial).map { $0 + Double($1) } : ref.y
                        let scale = accumulate ? zip(ref.scale, initial).map { $0 + abs(Double($1)) } : ref.scale
                        let err = maxRelativeError(y, want, scale: scale)
                        #expect(err < MatmulKernelTests.tolerance,
                                "\(f) \(path) tokens \(tokens) accumulate \(accumulate): error \(err)")
                    }
                }
            }
        }
    }

    @Test func fewTokensGiveEachTokenItsOneTokenResult() throws {
        let pool = try #require(tern_pool_create(2))
        defer { tern_pool_destroy(pool) }
        var rng = SeededGenerator(seed: 32)
        for f in try QuantFixture.all() {
            for tokens in 2...10 {
                let x = [Float].random(tokens * f.cols, using: &rng)
                KernelPaths.forEach { path in
                    guard path == "portable" || (path == "AVX2" && !Self.integerOnAVX2.contains(f.name)) else { return }
                    var y = [Float](repeating: .nan, count: tokens * f.rows)
                    tern_matmul(pool, f.blocks, f.type, Int64(f.rows), Int64(f.cols), x, Int64(tokens), &y, 0)
                    for t in 0..<tokens {
                        var alone = [Float](repeating: .nan, count: f.rows)
                        let xt = Array(x[t * f.cols..<(t + 1) * f.cols])
                        tern_matmul(pool, f.blocks, f.type, Int64(f.rows), Int64(f.cols), xt, 1, &alone, 0)
                        let together = Array(y[t * f.rows..<(t + 1) * f.rows])
                        #expect(together.map(\.bitPattern) == alone.map(\.bitPattern),
                                "\(f) \(path) token \(t) of \(tokens)")
                    }
                }
            }
        }
    }

    /// Batch-invariant mode (`tern_pool_set_batch_invariant`): every token's result is bit for bit
    /// its one-token result at any count, on every type and path (the integer one-token kernels
    /// are off, and the panels past the few-token passes sum in those passes' order), and still
    /// within the kernels' tolerance of the reference.
    @Test func batchInvariantModeGivesEachTokenItsOneTokenResultAtAnyCount() throws {
        let pool = try #require(tern_pool_create(2))
        defer { tern_pool_destroy(pool) }
        tern_pool_set_batch_invariant(pool, 1)
        var rng = SeededGenerator(seed: 33)
        let rows = 37
        for f in try QuantFixture.all() {
            let (blocks, weights) = Self.repeated(f, rows: rows)
            for tokens in [3, 11, 17, 70] {
                let x = (0..<tokens).flatMap { _ in MatmulDecodeKernelTests.activations(cols: f.cols, using: &rng) }
                let ref = MatmulKernelTests.reference(weights, rows: rows, cols: f.cols, x: x, tokens: tokens)
                let initial = [Float].random(tokens * rows, in: -4...4, using: &rng)
                KernelPaths.forEach { path in
                    var y = initial
                    tern_matmul(pool, blocks, f.type, Int64(rows), Int64(f.cols), x, Int64(tokens), &y, 1)
                    let want = zip(ref.y, initial).map { $0 + Double($1) }
                    let scale = zip(ref.scale, initial).map { $0 + abs(Double($1)) }
                    let err = maxRelativeError(y, want, scale: scale)
                    #expect(err < MatmulKernelTests.tolerance, "\(f) \(path) tokens \(tokens): error \(err)")
                    for t in 0..<tokens {
                        var alone = Array(initial[t * rows..<(t + 1) * rows])
                        let xt = Array(x[t * f.cols..<(t + 1) * f.cols])
                        tern_matmul(pool, blocks, f.type, Int64(rows), Int64(f.cols), xt, 1, &alone, 1)
                        let together = Array(y[t * rows..<(t + 1) * rows])
                        #expect(together.map(\.bitPattern) == alone.map(\.bitPattern),
                                "\(f) \(path) token \(t) of \(tokens)")
                    }
                }
            }
        }
    }
}
