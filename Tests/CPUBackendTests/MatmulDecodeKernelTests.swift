import CTernKernels
import Testing

/// One-token matmuls of Q4_0 / Q4_1, which on AVX-512 VNNI run the limb kernel
/// (matmul_vnni.c): activations cut into three int8 limbs per 32-value block. Checked on
/// every kernel path against the gguf-dequantized fixture weights in Double, with the
/// tolerance of MatmulKernelTests, on rows of 1 to 16 blocks (every 4-block group tail)
/// and activations whose blocks mix outliers, tiny values and all-zero blocks: the limbs'
/// error is relative to each block's largest |x|.
@Suite struct MatmulDecodeKernelTests {
    /// x [cols]: uniform in [-1, 1], every 29th value x64, every 7th x1e-3, block 2 all zero.
    static func activations(cols: Int, using rng: inout SeededGenerator) -> [Float] {
        var x = [Float].random(cols, using: &rng)
        for i in x.indices {
            if i % 29 == 0 { x[i] *= 64 }
            if i % 7 == 0 { x[i] *= 1e-3 }
            if i / 32 == 2 { x[i] = 0 }
        }
        return x
    }

    @Test(arguments: ["Q4_0", "Q4_1"])
    func oneTokenMatchesReferenceOnEveryPath(type name: String) throws {
        let pool = try #require(tern_pool_create(2))
        defer { tern_pool_destroy(pool) }
        let fixture = try #require(try QuantFixture.all().first { $0.name == name })
        let rowBytes = fixture.blocks.count / fixture.rows
        let blocksPerRow = fixture.cols / 32
        let blockBytes = rowBytes / blocksPerRow
        var rng = SeededGenerator(seed: 21)
        for blocks in [1, 2, 3, 4, 5, 6, 7, 9, 16] {
            // Row r of W: the first `blocks` blocks of fixture row r % 13.
            let rows = 37, cols = blocks * 32
            var bytes: [UInt8] = []
            var weights: [Float] = []
            for r in 0..<rows {
                let source: Int = r % fixture.rows
                let byteStart: Int = source * rowBytes
                let valueStart: Int = source * fixture.cols
                bytes += fixture.blocks[byteStart..<byteStart + blocks * blockBytes]
                weights += fixture.values[valueStart..<valueStart + cols]
            }
            let x = Self.activations(cols: cols, using: &rng)
            let ref = MatmulKernelTests.reference(weights, rows: rows, cols: cols, x: x, tokens: 1)
            let initial = [Float].random(rows, in: -4...4, using: &rng)
            KernelPaths.forEach { path in
                for accumulate in [false, true] {
                    var y = accumulate ? initial : [Float](repeating: .nan, count: rows)
                    tern_matmul(pool, bytes, fixture.type, Int64(rows), Int64(cols), x, 1, &y, accumulate ? 1 : 0)
                    let want = accumulate ? zip(ref.y, initial).map { $0 + Double($1) } : ref.y
                    let scale = accumulate ? zip(ref.scale, initial).map { $0 + abs(Double($1)) } : ref.scale
                    let err = maxRelativeError(y, want, scale: scale)
                    #expect(err < MatmulKernelTests.tolerance,
                            "\(name) \(path) \(blocks) blocks accumulate \(accumulate): error \(err)")
                }
            }
        }
    }
}
