/// How one logits row is sampled on the device.
public struct DeviceSamplingRow: Sendable, Equatable {
    /// 0 = greedy (argmax); otherwise a draw from softmax(logits / temperature).
    public var temperature: Float
    /// The random stream: the request's seed mixed with its step, so that a seed repeats its draws.
    public var key: UInt64

    public init(temperature: Float, key: UInt64) {
        self.temperature = temperature
        self.key = key
    }
}

/// A backend that can sample on its device (greedy or plain temperature sampling), so that a
/// step sends back one token id per logits row instead of [B', vocab] logits. Filters and
/// penalties (top-k, top-p, min-p, repetition, bias) stay with the host sampler over `execute`.
public protocol DeviceSampling: ModelExecutor {
    /// Runs `batch` and samples each of its logits rows as `rows` [B'] says (same order as
    /// `batch.logitsIndices`); returns the token ids [B'], valid until the next call.
    func executeSampling(_ batch: ForwardBatch, rows: [DeviceSamplingRow]) throws -> UnsafeBufferPointer<Int32>
}
