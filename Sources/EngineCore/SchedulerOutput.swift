/// One step's batch: which requests run, which tokens each feeds and where their K/V go.
///
/// Self-contained, so the model runner needs no request state of its own: it lays the
/// requests out in this order as DESIGN.md's flattened batch (tokenIDs, positions from
/// `startPosition`, slot mapping from `blockTable`, queryStartLoc from `tokenOffset`).
///
/// Contract for the runner: in each layer, write the K/V of every scheduled token before
/// attention reads any. A request may start from prefix-cache blocks that another request in
/// the same step is computing (the `n` completions of one prompt share it this way).
public struct SchedulerOutput: Sendable, Equatable {
    /// One request's share of the step.
    public struct ScheduledRequest: Sendable, Equatable {
        public let requestID: String
        /// Index of this request's first token in `SchedulerOutput.tokenIDs` (queryStartLoc).
        public let tokenOffset: Int
        /// Tokens fed this step: a whole prompt, a chunk of one, or 1 for a decode.
        public let numScheduledTokens: Int
        /// Position in the sequence of the first token fed: the tokens already computed.
        public let startPosition: Int
        /// The request's KV block ids in sequence order; covers at least `seqLen` tokens.
        /// Token at position p lives in slot `blockTable[p / blockSize] * blockSize + p % blockSize`.
        public let blockTable: [Int32]
        /// Whether a token is sampled for this request after the step: true when its scheduled
        /// tokens reach the end of its known tokens, false for a partial prompt chunk.
        public let samples: Bool
        public let samplingParams: SamplingParams
        /// Tokens the request has generated so far; the token sampled this step has this index
        /// in its output (stable across preemption, e.g. for seeded random streams).
        public let numOutputTokens: Int
        /// Draft tokens fed after the request's last known token, the tail of its scheduled
        /// tokens (speculative decoding): the runner samples a token after the last known token
        /// and after each draft, and keeps the drafts its samples confirm plus one more token.
        public let draftTokenIDs: [Int32]

        public init(
            requestID: String, tokenOffset: Int, numScheduledTokens: Int, startPosition: Int,
            blockTable: [Int32], samples: Bool, samplingParams: SamplingParams, numOutputTokens: Int,
            draftTokenIDs: [Int32] = []
        ) {
            self.requestID = requestID
            self.tokenOffset = tokenOffset
            self.numScheduledTokens = numScheduledTokens
            self.startPosition = startPosition
            self.blockTable = blockTable
            self.samples = samples
            self.samplingParams = samplingParams
            self.numOutputTokens = numOutputTokens
            self.draftTokenIDs = draftTokenIDs
        }

        /// Where this request's tokens lie in `SchedulerOutput.tokenIDs`.
        public var tokenRange: Range<Int> { tokenOffset ..< tokenOffset + numScheduledTokens }
        /// Tokens in the request's context after this step (seqLens).
        public var seqLen: Int { startPosition + numScheduledTokens }
    }

    /// The scheduled requests in batch order.
    public var requests: [ScheduledRequest]
    /// All scheduled tokens of all requests, back to back. Shape [T].
    public var tokenIDs: [Int32]
    /// Requests preempted while building this step: their blocks are freed and they will be
    /// recomputed from position 0 when they run again.
    public var preemptedRequestIDs: [String]
    /// Requests that finished (stopped, capped or aborted) since the previous step.
    public var finishedRequestIDs: [String]

    public init(
        requests: [ScheduledRequest], tokenIDs: [Int32], preemptedRequestIDs: [String], finishedRequestIDs: [String]
    ) {
        self.requests = requests
        self.tokenIDs = tokenIDs
        self.preemptedRequestIDs = preemptedRequestIDs
        self.finishedRequestIDs = finishedRequestIDs
    }

    /// Tokens fed this step (T).
    public var numScheduledTokens: Int { tokenIDs.count }

    /// True when no request runs this step.
    public var isEmpty: Bool { requests.isEmpty }

    /// The tokens one scheduled request feeds this step.
    public func tokenIDs(of request: ScheduledRequest) -> ArraySlice<Int32> {
        tokenIDs[request.tokenRange]
    }
}
