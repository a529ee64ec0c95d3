/// One sequence being generated: its tokens, how many of them have K/V in the cache, and its
/// place in the scheduler's queues.
///
/// Owned by the scheduler's thread (not `Sendable`): the engine builds it, hands it to
/// `Scheduler.add` and afterwards only reads it on that thread.
public final class Request {
    public let requestID: String
    public let promptTokenIDs: [Int32]
    public let samplingParams: SamplingParams
    /// Tokens that end generation unless `samplingParams.ignoreEOS` (a model may have several).
    public let eosTokenIDs: Set<Int32>
    /// Lower values are scheduled first and preempted last (vLLM's convention).
    public let priority: Int
    /// When the request reached the engine; breaks ties between equal priorities (first come,
    /// first served).
    public let arrivalTime: ContinuousClock.Instant
    /// Extra key of the prefix cache: requests share cached blocks only with equal salts.
    public let cacheSalt: String?

    /// Generated tokens, in order.
    public private(set) var outputTokenIDs: [Int32] = []
    /// Prompt then output tokens: the whole sequence known so far.
    public private(set) var allTokenIDs: [Int32]
    /// Tokens whose K/V are in the cache (prompt and output alike); the next step feeds the
    /// tokens from here on.
    public internal(set) var numComputedTokens = 0
    /// Prompt tokens found in the prefix cache when the request was first scheduled; nil before.
    public internal(set) var numCachedTokens: Int?
    public internal(set) var status: RequestStatus = .waiting
    /// Times this request was preempted.
    public internal(set) var numPreemptions = 0
    /// Draft tokens proposed to follow its known tokens (speculative decoding): the next step
    /// feeds them after its last token and keeps those the model's own sampling confirms.
    /// Set through `Scheduler.setDraftTokens`; cleared by every step that runs the request.
    public internal(set) var draftTokenIDs: [Int32] = []

    /// Hashes of the full blocks of `allTokenIDs`, extended on demand by the KV cache manager.
    var blockHashes: [BlockHash] = []
    /// Order of `add` calls; the last tie-breaker of the waiting queue.
    var sequenceNumber: UInt64 = 0

    /// - Parameters:
    ///   - requestID: unique among the scheduler's unfinished requests.
    ///   - promptTokenIDs: the tokenized prompt; must not be empty.
    ///   - eosTokenIDs: the model's end-of-sequence token ids.
    public init(
        requestID: String,
        promptTokenIDs: [Int32],
        samplingParams: SamplingParams,
        eosTokenIDs: Set<Int32> = [],
        priority: Int = 0,
        arrivalTime: ContinuousClock.Instant = .now,
        cacheSalt: String? = nil
    ) {
        self.requestID = requestID
        self.promptTokenIDs = promptTokenIDs
        self.samplingParams = samplingParams
        self.eosTokenIDs = eosTokenIDs
        self.priority = priority
        self.arrivalTime = arrivalTime
        self.cacheSalt = cacheSalt
        allTokenIDs = promptTokenIDs
    }

    /// Prompt plus output tokens.
    public var numTokens: Int { allTokenIDs.count }
    public var numPromptTokens: Int { promptTokenIDs.count }
    public var numOutputTokens: Int { outputTokenIDs.count }
    public var isFinished: Bool { status.isFinished }
    /// Whether the next step feeds just its latest token (a decode, where drafts can follow).
    public var isDecoding: Bool { status == .running && numComputedTokens == numTokens - 1 }

    func appendOutputToken(_ token: Int32) {
        outputTokenIDs.append(token)
        allTokenIDs.append(token)
    }

    /// Extends `blockHashes` to cover every full block of `allTokenIDs`; each block is hashed
    /// once in the request's life, so the cost per step is O(new blocks).
    func updateBlockHashes(blockSize: Int, using hashFunction: BlockHashFunction) {
        let numFullBlocks = allTokenIDs.count / blockSize
        while blockHashes.count < numFullBlocks {
            let index = blockHashes.count
            let tokens = allTokenIDs[index * blockSize ..< (index + 1) * blockSize]
            blockHashes.append(hashFunction(blockHashes.last, tokens, cacheSalt))
        }
    }

    /// Scheduling order: lower priority value, then earlier arrival, then earlier `add`.
    /// The running request that precedes all others is the last to be preempted.
    func precedes(_ other: Request) -> Bool {
        if priority != other.priority { return priority < other.priority }
        if arrivalTime != other.arrivalTime { return arrivalTime < other.arrivalTime }
        return sequenceNumber < other.sequenceNumber
    }

    /// Whether the request's stop conditions that need no text end it after its latest token:
    /// EOS (unless `ignoreEOS`) and stop token ids once `minTokens` are out, then `maxTokens`
    /// and the context length. EOS on the last allowed token counts as a stop, as in vLLM.
    func stopReason(maxModelLen: Int) -> FinishReason? {
        let params = samplingParams
        if let last = outputTokenIDs.last, numOutputTokens >= params.minTokens {
            if !params.ignoreEOS && eosTokenIDs.contains(last) { return .stop }
            if params.stopTokenIDs.contains(last) { return .stop }
        }
        if numTokens >= maxModelLen { return .length }
        if let maxTokens = params.maxTokens, numOutputTokens >= maxTokens { return .length }
        return nil
    }
}
