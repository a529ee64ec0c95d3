import CTernKernels
import Foundation
import Testing

/// RMSNorm, SiLU-and-multiply and add against Double references.
@Suite struct ElementwiseKernelTests {
    @Test(arguments: [Float(0), 1])
    func rmsnormInPlaceWithWeightOffset(weightOffset: Float) {
        var rng = SeededGenerator(seed: 21)
        let tokens = 3, dim = 37
        let eps: Float = 1e-6
        let x = [Float].random(tokens * dim, in: -3...3, using: &rng)
        let w = [Float].random(dim, using: &rng)
        var want: [Double] = []
        for t in 0..<tokens {
            let row = x[t * dim..<(t + 1) * dim].map(Double.init)
            let inv = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(dim) + Double(eps)).squareRoot()
            want += row.enumerated().map { $1 * inv * (Double(w[$0]) + Double(weightOffset)) }
        }
        var y = x
        y.withUnsafeMutableBufferPointer { buf in
            tern_rmsnorm(buf.baseAddress, w, buf.baseAddress, Int64(tokens), Int64(dim), eps, weightOffset)
        }
        let err = maxRelativeError(y, want, scale: want.map { abs($0) }, floor: 1e-12)
        #expect(err < 1e-6, "offset \(weightOffset): error \(err)")
    }

    @Test func siluMulOnEveryPath() {
        var rng = SeededGenerator(seed: 22)
        // Ragged length (SIMD tails) and values that overflow exp either way.
        let gate = [Float].random(45, in: -12...12, using: &rng) + [-100, -20, 0, 1e-3, 20, 100, -88, 89]
        let up = [Float].random(gate.count, in: -2...2, using: &rng)
        let want = zip(gate, up).map { g, u in Double(g) / (1 + exp(-Double(g))) * Double(u) }
        KernelPaths.forEach { path in
            var got = gate
            tern_silu_mul(&got, up, Int64(got.count))
            let err = maxRelativeError(got, want, scale: want.map { abs($0) })
            #expect(err < 2e-6, "\(path): error \(err)")
        }
    }

    @Test func geluTanhMulOnEveryPath() {
        var rng = SeededGenerator(seed: 23)
        let gate = [Float].random(45, in: -8...8, using: &rng) + [-100, -20, -3, 0, 1e-3, 3, 20, 100, 1e12]
        let up = [Float].random(gate.count, in: -2...2, using: &rng)
        let want = zip(gate, up).map { g, u in
            let x = Double(g)
            return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) * Double(u)
        }
        KernelPaths.forEach { path in
            var got = gate
            tern_gelu_tanh_mul(&got, up, Int64(got.count))
            // Relative to |g·up|: PyTorch's 1 + tanh (the portable path) cancels in the
            // negative tail, where the GELU is tiny next to g.
            let err = maxRelativeError(got, want, scale: zip(gate, up).map { abs(Double($0) * Double($1)) })
            #expect(err < 4e-6, "\(path): error \(err)")
        }
    }

    @Test func scaleAndSoftcap() {
        var x: [Float] = [1, -2, 0, 30, -1000]
        tern_scale(&x, 5, 0.5)
        #expect(x == [0.5, -1, 0, 15, -500])
        tern_softcap(&x, 5, 30)
        let want = [0.5, -1, 0, 15, -500].map { Float(tanh(Double($0) / 30) * 30) }
        for (a, b) in zip(x, want) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
    }

    @Test func addAccumulates() {
        var x: [Float] = [1, 2, 3, 4, 5]
        tern_add(&x, [0.5, -2, 0, 1e-3, -5], 5)
        #expect(x == [1.5, 0, 3, 4.001, 0])
    }
}
