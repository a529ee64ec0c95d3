/// How one logits row is sampled on the device: the host sampler's filters, in its order.
public struct DeviceSamplingRow: Sendable, Equatable {
    /// 0 = greedy (argmax); otherwise a draw from softmax(logits / temperature).
    public var temperature: Float
    /// The random stream: the request's seed mixed with its step, so that a seed repeats its draws.
    public var key: UInt64
    /// Keep the `topK` most likely tokens (0: all).
    public var topK: Int32
    /// Keep the most likely tokens up to this probability mass (1: all).
    public var topP: Float
    /// Drop tokens less likely than `minP` times the most likely one (0: none).
    public var minP: Float

    public init(temperature: Float, key: UInt64, topK: Int32 = 0, topP: Float = 1, minP: Float = 0) {
        self.temperature = temperature
        self.key = key
        self.topK = topK
        self.topP = topP
        self.minP = minP
    }

    /// Whether sampling this row needs more than the plain temperature draw.
    public var filters: Bool { temperature > 0 && (topK > 0 || topP < 1 || minP > 0) }
}

/// One logit changed on the device before sampling, as the host sampler's processors change
/// it: `bias` added, then -inf if `masked`, then the repetition penalty (a positive logit
/// divided by `repetition`, a negative one multiplied), then `subtract` taken off.
public struct LogitAdjustment: Sendable, Equatable {
    /// The logits row (index into the step's sampling rows) and the token.
    public var row: Int32
    public var token: Int32
    public var bias: Float
    public var masked: Bool
    public var repetition: Float
    public var subtract: Float

    public init(row: Int32, token: Int32, bias: Float = 0, masked: Bool = false, repetition: Float = 1,
                subtract: Float = 0) {
        self.row = row
        self.token = token
        self.bias = bias
        self.masked = masked
        self.repetition = repetition
        self.subtract = subtract
    }
}

/// A backend that can sample on its device, so that a step sends back one token id per
/// logits row instead of [B', vocab] logits: greedy or a seeded temperature draw with
/// top-k, top-p and min-p, after logit bias, min-tokens masking and the repetition, presence
/// and frequency penalties (as `adjustments`), and within a structured-output mask. Logprobs
/// stay with the host sampler.
public protocol DeviceSampling: ModelExecutor {
    /// Runs `batch`, applies `adjustments` to its logits and samples each logits row as `rows`
    /// [B'] says (same order as `batch.logitsIndices`); returns the token ids [B'], valid
    /// until the next call.
    func executeSampling(_ batch: ForwardBatch, rows: [DeviceSamplingRow],
                         adjustments: [LogitAdjustment]) throws -> UnsafeBufferPointer<Int32>

    /// Like `executeSampling(_:rows:adjustments:)`, with the rows `maskedRows` (indices into
    /// `rows`, ascending) limited to the tokens of a structured-output bitmask: once the
    /// forward pass is queued, `prepare` fills the masks [maskedRows.count, words] u32 (zeroed;
    /// bit t % 32 of word t / 32 set = token t allowed, words = ceil(vocab / 32)) and returns
    /// the step's adjustments, so that the host computes masks while the device runs. The
    /// masks are applied after the adjustments.
    func executeSampling(_ batch: ForwardBatch, rows: [DeviceSamplingRow], maskedRows: [Int32],
                         prepare: (UnsafeMutableBufferPointer<UInt32>) -> [LogitAdjustment]) throws
        -> UnsafeBufferPointer<Int32>
}
