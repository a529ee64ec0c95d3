import ArgumentParser
import CUDABackend
import Foundation

/// `tern debug nccl`: NCCL loaded, its communicators made in process over the GPUs, and an
/// all-reduce checked and timed: the collective tensor parallelism on GPUs stands on.
struct DebugNCCLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nccl", abstract: "Check and time NCCL's in-place all-reduce over this machine's GPUs.")

    @Option(help: "GPUs to use, 0 ... N-1 (default: every GPU the driver sees).")
    var devices: Int?

    @Option(name: .customLong("kib"), help: "A size to time, in KiB of f32 per rank (repeat for several).")
    var sizes: [Int] = [16, 256, 4096, 65536]

    func run() throws {
        let count = try devices ?? CUDADevice.count()
        guard count >= 1 else { throw ValidationError("--devices must be at least 1") }
        let gpus = try (0..<count).map { try CUDADevice(ordinal: $0) }
        let nccl = try NCCL()
        print("NCCL \(nccl.versionString), \(count) rank(s): \(gpus.map { "\($0.ordinal): \($0.name)" }.joined(separator: ", "))")
        let communicators = try nccl.communicators(devices: gpus)

        // Correctness: rank r holds r + 1 everywhere (and its index in element i's low bits),
        // so the sum is n (n + 1) / 2 + n · (i mod 7).
        let elements = 1 << 20
        // Memory is allocated in the current context: each rank's on its own GPU.
        func allocate(_ bytes: Int, on gpu: CUDADevice, _ label: String) throws -> DeviceMemory {
            try gpu.makeCurrent()
            return try gpu.allocate(bytes: bytes, label: label)
        }
        let buffers = try gpus.map { try allocate(elements * 4, on: $0, "all-reduce check") }
        for (rank, gpu) in gpus.enumerated() {
            try gpu.makeCurrent()
            let values = (0..<elements).map { Float(rank + 1) + Float($0 % 7) }
            try values.withUnsafeBytes { try gpu.copy(to: buffers[rank].address, from: $0.baseAddress!, bytes: $0.count) }
        }
        try nccl.allReduceSum(communicators, buffers: buffers.map(\.address), count: elements, type: .float32)
        var wrong = 0
        for (rank, gpu) in gpus.enumerated() {
            try gpu.makeCurrent()
            try gpu.synchronize()
            var result = [Float](repeating: 0, count: elements)
            try result.withUnsafeMutableBytes {
                try gpu.copyAsync(to: $0.baseAddress!, from: buffers[rank].address, bytes: $0.count)
            }
            try gpu.synchronize()
            let n = Float(count)
            wrong += (0..<elements).filter { result[$0] != n * (n + 1) / 2 + n * Float($0 % 7) }.count
        }
        print("all-reduce of \(elements) f32 on each rank: \(wrong == 0 ? "every element right" : "\(wrong) elements WRONG")")
        guard wrong == 0 else { throw ExitCode.failure }

        for kib in sizes {
            let n = kib * 256
            let data = try gpus.map { try allocate(n * 4, on: $0, "all-reduce timing") }
            let iterations = 20
            for _ in 0..<3 { try nccl.allReduceSum(communicators, buffers: data.map(\.address), count: n, type: .float32) }
            for gpu in gpus { try gpu.makeCurrent(); try gpu.synchronize() }
            let started = ContinuousClock.now
            for _ in 0..<iterations {
                try nccl.allReduceSum(communicators, buffers: data.map(\.address), count: n, type: .float32)
            }
            for gpu in gpus { try gpu.makeCurrent(); try gpu.synchronize() }
            let seconds = (ContinuousClock.now - started).seconds / Double(iterations)
            let algorithmic = Double(n * 4) / seconds
            let bus = algorithmic * 2 * Double(count - 1) / Double(count)
            print(String(format: "%8d KiB: %8.1f us, algbw %7.2f GB/s, busbw %7.2f GB/s", kib, seconds * 1e6,
                         algorithmic / 1e9, bus / 1e9))
        }
    }
}
