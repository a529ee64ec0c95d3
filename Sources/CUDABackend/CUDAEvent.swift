/// A CUDA event on a device's stream, for timing GPU work: `record()` marks the point the
/// stream has reached, `milliseconds(since:)` the GPU time between two recorded events.
public final class CUDAEvent: @unchecked Sendable {
    private let device: CUDADevice
    private let event: OpaquePointer

    public init(device: CUDADevice) throws {
        self.device = device
        var event: OpaquePointer?
        try device.driver.check(device.driver.cuEventCreate(&event, 0), "cuEventCreate")
        guard let event else { throw CUDAError.unsupported("cuEventCreate returned no event") }
        self.event = event
    }

    /// Queues the event on the device's stream.
    public func record() throws {
        try device.driver.check(device.driver.cuEventRecord(event, device.stream), "cuEventRecord")
    }

    /// Milliseconds of GPU time from `start` to this event; waits for this event.
    public func milliseconds(since start: CUDAEvent) throws -> Double {
        try device.driver.check(device.driver.cuEventSynchronize(event), "cuEventSynchronize")
        var milliseconds: Float = 0
        try device.driver.check(device.driver.cuEventElapsedTime(&milliseconds, start.event, event), "cuEventElapsedTime")
        return Double(milliseconds)
    }
}
