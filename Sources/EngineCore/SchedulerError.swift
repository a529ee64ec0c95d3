/// A request or configuration the scheduler cannot accept, or an engine loop that broke the
/// schedule/update contract. Each description is one readable line.
public enum SchedulerError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case duplicateRequestID(String)
    /// The `Request` object was given to `add` before (requests are single-use).
    case alreadyAdded(requestID: String)
    case emptyPrompt(requestID: String)
    /// Prompt plus `maxTokens` (or the prompt alone) exceeds the context length.
    case exceedsMaxModelLen(requestID: String, promptTokens: Int, maxTokens: Int?, maxModelLen: Int)
    /// `update` was given no sampled token for a request that sampled this step.
    case missingSampledTokens(requestID: String)
    /// `update` was given more tokens for a request than its drafts plus one.
    case tooManySampledTokens(requestID: String, given: Int, drafts: Int)
    /// `update` was given an output whose request positions no longer match (applied twice,
    /// or not the latest `schedule()`).
    case staleOutput(requestID: String, expectedPosition: Int, outputPosition: Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return "invalid scheduler configuration: \(message)"
        case .duplicateRequestID(let id):
            return "request id '\(id)' is already in use by an unfinished request"
        case .alreadyAdded(let id):
            return "request '\(id)' was already added to a scheduler; make a new Request to run it again"
        case .emptyPrompt(let id):
            return "request '\(id)' has an empty prompt; at least one token is needed"
        case .exceedsMaxModelLen(let id, let promptTokens, let maxTokens, let maxModelLen):
            guard let maxTokens else {
                return "request '\(id)': the prompt has \(promptTokens) tokens, leaving no room to "
                    + "generate within the maximum context length of \(maxModelLen) tokens"
            }
            return "request '\(id)': the maximum context length is \(maxModelLen) tokens, but "
                + "\(UInt(clamping: promptTokens) + UInt(clamping: maxTokens)) were requested (\(promptTokens) in the prompt, "
                + "\(maxTokens) to generate)"
        case .missingSampledTokens(let id):
            return "no sampled token was given for request '\(id)', which sampled in this step"
        case .tooManySampledTokens(let id, let given, let drafts):
            return "\(given) sampled tokens were given for request '\(id)', which fed \(drafts) draft tokens "
                + "this step; at most \(drafts + 1) can follow"
        case .staleOutput(let id, let expected, let given):
            return "scheduler output is stale for request '\(id)': it starts at position \(given), "
                + "but \(expected) tokens are computed; apply each schedule() output exactly once"
        }
    }
}
