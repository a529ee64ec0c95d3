/// Bounds on one render, so that no template can hang or exhaust memory. The defaults are far
/// above what real chat templates need (they loop once or twice over the messages).
public struct RenderLimits: Sendable, Equatable {
    /// Loop iterations over the whole render, all loops together.
    public var loopIterations: Int
    /// Nested macro, `caller()` and recursive `loop()` calls.
    public var callDepth: Int
    /// Bytes (UTF-8) of rendered output.
    public var outputBytes: Int

    public init(loopIterations: Int = 1_000_000, callDepth: Int = 100, outputBytes: Int = 64 << 20) {
        self.loopIterations = loopIterations
        self.callDepth = callDepth
        self.outputBytes = outputBytes
    }
}
