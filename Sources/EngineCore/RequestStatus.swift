/// Why a request stopped generating (the OpenAI `finish_reason`).
public enum FinishReason: String, Sendable, Equatable, CustomStringConvertible {
    /// EOS, a stop token id, or (reported by the frontend) a stop string.
    case stop
    /// `maxTokens` generated or the context (`maxModelLen`) full.
    case length
    /// Cancelled by the client or the engine.
    case abort

    public var description: String { rawValue }
}

/// Where a request is in its life.
public enum RequestStatus: Sendable, Equatable {
    /// Added and not yet scheduled.
    case waiting
    /// Holding KV blocks; scheduled whenever the token budget allows.
    case running
    /// Evicted from the KV cache to make room; waits to be recomputed.
    case preempted
    /// Done; its blocks are freed.
    case finished(FinishReason)

    public var isFinished: Bool {
        if case .finished = self { return true }
        return false
    }
}
