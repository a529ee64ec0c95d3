/// What one step changed for one request: the tokens it generated and whether it finished.
public struct RequestUpdate: Sendable, Equatable {
    public let requestID: String
    /// Tokens appended to the request's output in this step (empty when it only finished).
    public let newTokenIDs: [Int32]
    /// Set when the request finished; its KV blocks are already freed.
    public let finishReason: FinishReason?
    /// Prompt tokens served from the prefix cache (the usage report's cached tokens).
    public let numCachedTokens: Int

    public init(requestID: String, newTokenIDs: [Int32], finishReason: FinishReason?, numCachedTokens: Int) {
        self.requestID = requestID
        self.newTokenIDs = newTokenIDs
        self.finishReason = finishReason
        self.numCachedTokens = numCachedTokens
    }

    public var isFinished: Bool { finishReason != nil }
}
