import CUDABackend
import Foundation

/// Where a GPU step's time goes, when `TERN_CUDA_PROFILE=N` is set: every N steps one line on
/// standard error with the mean GPU time of a step, the host time inside `execute` and the
/// host time between steps (the engine's scheduling and sampling, during which the GPU idles).
final class StepProfiler {
    private let start: CUDAEvent
    private let end: CUDAEvent
    private let interval: Int
    private var steps = 0, tokens = 0
    private var gpu = 0.0, inside = 0.0, between = 0.0
    private var entered = ContinuousClock.now
    private var left: ContinuousClock.Instant?

    /// A profiler if `TERN_CUDA_PROFILE` holds a positive step count, else nil.
    static func fromEnvironment(device: CUDADevice) throws -> StepProfiler? {
        guard let text = ProcessInfo.processInfo.environment["TERN_CUDA_PROFILE"], let interval = Int(text),
              interval > 0 else { return nil }
        return try StepProfiler(device: device, interval: interval)
    }

    private init(device: CUDADevice, interval: Int) throws {
        start = try CUDAEvent(device: device)
        end = try CUDAEvent(device: device)
        self.interval = interval
    }

    func beginStep() throws {
        entered = ContinuousClock.now
        if let left { between += Self.milliseconds(entered - left) }
        try start.record()
    }

    /// After the step's last GPU work is queued and waited for.
    func endStep(tokens stepTokens: Int) throws {
        try end.record()
        gpu += try end.milliseconds(since: start)
        let now = ContinuousClock.now
        inside += Self.milliseconds(now - entered)
        left = now
        steps += 1
        tokens += stepTokens
        guard steps == interval else { return }
        let n = Double(steps)
        let line = String(format: "[cuda profile] %d steps, %.1f tokens/step: GPU %.3f ms/step, host in execute %.3f ms, host between steps %.3f ms\n",
                          steps, Double(tokens) / n, gpu / n, inside / n, between / n)
        FileHandle.standardError.write(Data(line.utf8))
        steps = 0
        tokens = 0
        gpu = 0
        inside = 0
        between = 0
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) * 1e-15
    }
}
