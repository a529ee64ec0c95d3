import CTernKernels
import Foundation
import Testing

/// tern_rope in both pair layouts against a Double reference, up to position 131071.
@Suite struct RopeKernelTests {
    static let positions: [Int32] = [0, 7, 4096, 100_000, 131_071]

    static func inverseFrequencies(rotDim: Int, theta: Double) -> [Float] {
        (0..<rotDim / 2).map { Float(1 / pow(theta, Double(2 * $0) / Double(rotDim))) }
    }

    static func reference(_ x: [Float], heads: Int, headDim: Int, rotDim: Int, invFreq: [Float], neox: Bool) -> [Double] {
        var out = x.map(Double.init)
        let half = rotDim / 2
        for (t, pos) in positions.enumerated() {
            for h in 0..<heads {
                let base = (t * heads + h) * headDim
                for i in 0..<half {
                    let angle = Double(pos) * Double(invFreq[i])
                    let (a, b) = neox ? (base + i, base + i + half) : (base + 2 * i, base + 2 * i + 1)
                    let x0 = Double(x[a]), x1 = Double(x[b])
                    out[a] = x0 * cos(angle) - x1 * sin(angle)
                    out[b] = x0 * sin(angle) + x1 * cos(angle)
                }
            }
        }
        return out
    }

    @Test(arguments: [(true, 64, 64, 10_000.0), (false, 64, 64, 500_000.0), (true, 16, 12, 10_000.0), (false, 20, 8, 1_000_000.0)])
    func rotationMatchesDoubleReference(neox: Bool, headDim: Int, rotDim: Int, theta: Double) {
        var rng = SeededGenerator(seed: UInt64(headDim * 7 + rotDim))
        let heads = 3
        let x = [Float].random(Self.positions.count * heads * headDim, using: &rng)
        let invFreq = Self.inverseFrequencies(rotDim: rotDim, theta: theta)
        let want = Self.reference(x, heads: heads, headDim: headDim, rotDim: rotDim, invFreq: invFreq, neox: neox)
        var got = x
        tern_rope(&got, Int64(Self.positions.count), Int32(heads), Int32(headDim), Int32(rotDim),
                  Self.positions, invFreq, neox ? 1 : 0)
        let err = maxRelativeError(got, want, scale: [Double](repeating: 1, count: want.count))
        #expect(err < 1e-5, "neox \(neox) rot \(rotDim)/\(headDim): error \(err)")
        // Dimensions past rot_dim are left as they were.
        for t in 0..<Self.positions.count * heads {
            let tail = (t * headDim + rotDim)..<((t + 1) * headDim)
            #expect(got[tail] == x[tail])
        }
    }
}
