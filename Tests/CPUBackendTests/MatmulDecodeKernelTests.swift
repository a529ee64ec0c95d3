import CTernKernels
import Testing

/// One-token matmuls of the types with a limb kernel: Q4_0 / Q4_1 on AVX-512 VNNI
/// (matmul_vnni.c, three int8 limbs per 32-value block), Q5_0 / Q5_1 / Q8_0 / Q4_K / Q5_K /
/// Q6_K on AVX2 (matmul_avx2_int.c, two int16 limbs). Checked on every kernel path against
/// the gguf-dequantized fixture weights in Double, with the tolerance of MatmulKernelTests,
/// on rows of 1 to 16 blocks (every tail of the 4-block groups and of the 8-block scale
/// gathers; 1 and 2 super-blocks for the K types), an odd row count, and activations whose
/// blocks mix outliers, tiny values and all-zero blocks: the limbs' error is relative to
/// each block's largest |x|.
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

    @Test(arguments: ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"])
    func oneTokenMatchesReferenceOnEveryPath(type name: String) throws {
        let pool = try #require(tern_pool_create(2))
        defer { tern_pool_destroy(pool) }
        let fixture = try #require(try QuantFixture.all().first { $0.name == name })
        let rowBytes = fixture.blocks.count / fixture.rows
        let blockValues = name.hasSuffix("_K") ? 256 : 32
        let blocksPerRow = fixture.cols / blockValues
        let blockBytes = rowBytes / blocksPerRow
        var rng = SeededGenerator(seed: 21)
        for blocks in [1, 2, 3, 4, 5, 6, 7, 9, 16] where blocks <= blocksPerRow {
            // Row r of W: the first `blocks` blocks of fixture row r % 13.
            let rows = 37, cols = blocks * blockValues
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
