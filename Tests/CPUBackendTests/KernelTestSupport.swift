import CTernKernels
import Foundation
import Testing

/// Weights of one GGML type from Fixtures/quant (scripts/make_kernel_fixtures.py): raw block
/// bytes and the floats gguf.quants.dequantize gives for them.
struct QuantFixture: Sendable, CustomStringConvertible {
    let name: String
    let type: Int32
    let rows: Int
    let cols: Int
    let blocks: [UInt8]   // [rows, rowBytes]
    let values: [Float]   // [rows, cols]

    var description: String { name }

    static func all() throws -> [QuantFixture] {
        struct Index: Decodable {
            struct Entry: Decodable {
                let name: String
                let type: Int32
                let blocks: String
                let values: String
            }
            let rows: Int
            let cols: Int
            let types: [Entry]
        }
        let dir = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/quant")
        let index = try JSONDecoder().decode(
            Index.self, from: Data(contentsOf: dir.appendingPathComponent("index.json")))
        return try index.types.map { entry in
            let blocks = try [UInt8](Data(contentsOf: dir.appendingPathComponent(entry.blocks)))
            let raw = try Data(contentsOf: dir.appendingPathComponent(entry.values))
            let values = raw.withUnsafeBytes { bytes in
                (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            return QuantFixture(name: entry.name, type: entry.type, rows: index.rows,
                                cols: index.cols, blocks: blocks, values: values)
        }
    }
}

/// SplitMix64: a small seeded generator so that every run tests the same data.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == Float {
    static func random(_ count: Int, in range: ClosedRange<Float> = -1...1,
                       using rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &rng) }
    }
}

/// The kernel families, as feature masks for tern_set_cpu_features_mask. The mask is
/// process-wide, so tests that switch it take a lock; other tests running meanwhile only
/// see another (equally correct) path.
enum KernelPaths {
    static let portable: Int32 = 0
    static let avx2: Int32 = Int32(TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C)
    static let all: Int32 = -1
    static let masks: [(name: String, mask: Int32)] = [("portable", portable), ("AVX2", avx2), ("all", all)]
    private static let lock = NSLock()

    /// Runs body with every family enabled (the mask's state whenever nobody holds the lock)
    /// and no other test switching it meanwhile: for tests that compare two runs exactly.
    static func holding<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs body once per kernel family, with the mask set to it.
    static func forEach(_ body: (String) throws -> Void) rethrows {
        lock.lock()
        defer {
            tern_set_cpu_features_mask(-1)
            lock.unlock()
        }
        for path in masks {
            tern_set_cpu_features_mask(path.mask)
            try body(path.name)
        }
    }
}

/// Largest |got - want| / (scale + floor) over all elements.
func maxRelativeError(_ got: [Float], _ want: [Double], scale: [Double], floor: Double = 1e-30) -> Double {
    precondition(got.count == want.count && want.count == scale.count)
    var worst = 0.0
    for i in got.indices {
        let err = abs(Double(got[i]) - want[i]) / (scale[i] + floor)
        if err.isNaN { return .infinity }
        worst = max(worst, err)
    }
    return worst
}
