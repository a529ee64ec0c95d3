/// A CUDA graph: the kernels one closure queued on the device's stream, captured once and
/// replayed with a single launch. The kernels keep the arguments they were captured with
/// (device addresses, sizes), so a replay reads whatever those buffers hold at the time.
public final class CUDAGraph: @unchecked Sendable {
    private let device: CUDADevice
    private let executable: OpaquePointer

    /// Captures what `body` queues on `device`'s stream (nothing runs while capturing) and
    /// instantiates it. If `body` or the capture fails, the stream leaves capture mode and the
    /// error is rethrown.
    public init(device: CUDADevice, capturing body: () throws -> Void) throws {
        self.device = device
        let driver = device.driver
        // CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1: other threads' CUDA calls are not affected.
        try driver.check(driver.cuStreamBeginCapture(device.stream, 1), "cuStreamBeginCapture")
        var graph: OpaquePointer?
        do {
            try body()
        } catch {
            _ = driver.cuStreamEndCapture(device.stream, &graph)
            if let graph { _ = driver.cuGraphDestroy(graph) }
            throw error
        }
        try driver.check(driver.cuStreamEndCapture(device.stream, &graph), "cuStreamEndCapture")
        guard let graph else { throw CUDAError.unsupported("cuStreamEndCapture returned no graph") }
        defer { _ = driver.cuGraphDestroy(graph) }
        var executable: OpaquePointer?
        try driver.check(driver.cuGraphInstantiateWithFlags(&executable, graph, 0), "cuGraphInstantiateWithFlags")
        guard let executable else { throw CUDAError.unsupported("cuGraphInstantiateWithFlags returned no graph") }
        self.executable = executable
    }

    /// Queues one replay of the graph on the device's stream.
    public func launch() throws {
        try device.driver.check(device.driver.cuGraphLaunch(executable, device.stream), "cuGraphLaunch")
    }

    deinit { _ = device.driver.cuGraphExecDestroy(executable) }
}
