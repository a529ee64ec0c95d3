import SpeculativeDecoding
import EngineCore
import StructuredOutputs
import Tokenization

/// A request as the frontend hands it to the engine: already tokenized and validated.
public struct EngineRequest: Sendable {
    public var requestID: String
    public var promptTokenIDs: [Int32]
    public var params: SamplingParams
    /// Lower runs first (vLLM's convention).
    public var priority: Int
    /// When the request arrived (queue time and first-come-first-served order count from here).
    public var arrivalTime: ContinuousClock.Instant
    /// A structured-output constraint, compiled off the engine thread (nil: unconstrained).
    public var grammar: CompiledGrammar?
    public init(requestID: String, promptTokenIDs: [Int32], params: SamplingParams, priority: Int = 0,
                arrivalTime: ContinuousClock.Instant = .now, grammar: CompiledGrammar? = nil) {
        self.requestID = requestID
        self.promptTokenIDs = promptTokenIDs
        self.params = params
        self.priority = priority
        self.arrivalTime = arrivalTime
        self.grammar = grammar
    }
}

/// One token's log-probability and the most likely alternatives at its position.
public struct TokenLogprob: Sendable, Equatable {
    public var tokenID: Int32
    public var logprob: Float
    /// Most likely first; `SamplingParams.logprobs` of them.
    public var top: [(tokenID: Int32, logprob: Float)]
    /// The token's place among all tokens, most likely first (1 = the most likely); 0 when not computed.
    public var rank: Int
    public init(tokenID: Int32, logprob: Float, top: [(tokenID: Int32, logprob: Float)], rank: Int = 0) {
        self.tokenID = tokenID
        self.logprob = logprob
        self.top = top
        self.rank = rank
    }
    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.tokenID == b.tokenID && a.logprob == b.logprob && a.top.elementsEqual(b.top) { $0 == $1 }
    }
}

/// What a request's stream yields after each engine step that touched it.
public struct RequestOutput: Sendable {
    public var requestID: String
    /// Tokens generated since the previous output.
    public var newTokenIDs: [Int32]
    /// Text of those tokens (held back while it could be the start of a stop string or an
    /// incomplete UTF-8 sequence).
    public var newText: String
    /// One per new token when the request asked for logprobs.
    public var logprobs: [TokenLogprob]?
    /// Prompt logprobs (first output only; the first prompt token has none).
    public var promptLogprobs: [TokenLogprob?]?
    /// Set on the last output.
    public var finishReason: FinishReason?
    /// The stop string or stop token that ended the request, if one did.
    public var stopReason: String?
    public var promptTokenCount: Int
    /// Prompt tokens served from the prefix cache.
    public var cachedTokenCount: Int
    public var outputTokenCount: Int
    /// Time from arrival to the first step that scheduled the request (vLLM's queue time);
    /// set on one output only, the first after that step.
    public var queueTime: Duration?
    public init(requestID: String, newTokenIDs: [Int32], newText: String, logprobs: [TokenLogprob]? = nil,
                promptLogprobs: [TokenLogprob?]? = nil, finishReason: FinishReason? = nil, stopReason: String? = nil,
                promptTokenCount: Int, cachedTokenCount: Int, outputTokenCount: Int, queueTime: Duration? = nil) {
        self.requestID = requestID
        self.newTokenIDs = newTokenIDs
        self.newText = newText
        self.logprobs = logprobs
        self.promptLogprobs = promptLogprobs
        self.finishReason = finishReason
        self.stopReason = stopReason
        self.promptTokenCount = promptTokenCount
        self.cachedTokenCount = cachedTokenCount
        self.outputTokenCount = outputTokenCount
        self.queueTime = queueTime
    }
}

/// A snapshot of the engine for metrics, logs and health checks.
public struct EngineStats: Sendable {
    public var runningRequests = 0
    public var waitingRequests = 0
    /// Fraction of KV blocks in use, 0...1.
    public var kvCacheUsage: Double = 0
    /// Prompt tokens looked up in / found in the prefix cache, since start.
    public var prefixCacheQueries = 0
    public var prefixCacheHits = 0
    public var promptTokensTotal = 0
    public var generationTokensTotal = 0
    /// Steps run since start.
    public var steps = 0
    /// Requests preempted (their KV blocks taken back) since start.
    public var preemptionsTotal = 0
    /// Steps by the tokens they ran: counts per bucket of `iterationTokenBounds` (the last,
    /// beyond every bound), and the tokens of all steps.
    public var iterationTokenCounts = [Int](repeating: 0, count: EngineStats.iterationTokenBounds.count + 1)
    public var iterationTokensSum = 0
    /// The KV cache and batch limits, for `cache_config_info`.
    public var blockSize = 0
    public var numBlocks = 0
    public var maxNumSeqs = 0
    public var maxNumBatchedTokens = 0
    public var enablePrefixCaching = false
    /// Speculative decoding's counters; nil when it is off.
    public var speculative: SpeculativeStats?
    /// vLLM's buckets for tokens per step.
    public static let iterationTokenBounds = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
    /// When the loop last finished a step or found nothing to do (for /health: a loop that is
    /// busy but has not advanced for long is stuck).
    public var lastHeartbeat: ContinuousClock.Instant = .now
    /// False once the loop has died (an error in a step) or shut down.
    public var isAlive = true
    public init() {}
}

/// The engine as the server sees it. `AsyncEngine` is the real one; tests may fake it.
public protocol EngineClient: Sendable {
    /// The tokenizer, chat template and limits of the served model.
    var modelInfo: ServedModelInfo { get }
    /// Queues `request` and streams its outputs; the stream ends after the output with a
    /// finish reason, or throws if the engine fails. Throws at once (an `EngineError` naming
    /// the field) if the request can never run. Cancelling the stream's consumer aborts it.
    func submit(_ request: EngineRequest) throws -> AsyncThrowingStream<RequestOutput, any Error>
    /// Aborts a request; its KV blocks are freed at the next step.
    func abort(_ requestID: String)
    /// The current numbers.
    func stats() -> EngineStats
    /// Stops taking requests, lets those in flight finish, then stops the loop.
    func shutdown() async
}

/// What the frontend needs to know of the served model.
public struct ServedModelInfo: Sendable {
    /// The name clients use (`--served-model-name`, else the model argument).
    public let name: String
    public let tokenizer: Tokenizer
    /// Nil when the model has no chat template (chat requests then fail with a clear error).
    public let chatPrompt: ChatPrompt?
    public let maxModelLen: Int
    public let vocabularySize: Int
    /// Unix time the model was loaded (the `created` field of /v1/models).
    public let created: Int
    /// Compiles structured-output constraints over this model's tokens (and caches them).
    public let grammarCompiler: GrammarCompiler

    /// - Parameter eosTokenIDs: the tokens that end generation, where a grammar may end
    ///   (default: the tokenizer's).
    public init(name: String, tokenizer: Tokenizer, chatPrompt: ChatPrompt?, maxModelLen: Int, vocabularySize: Int,
                created: Int, eosTokenIDs: Set<Int32>? = nil) {
        self.name = name
        self.tokenizer = tokenizer
        self.chatPrompt = chatPrompt
        self.maxModelLen = maxModelLen
        self.vocabularySize = vocabularySize
        self.created = created
        grammarCompiler = GrammarCompiler(vocabulary: TokenVocabulary(
            tokenBytes: tokenizer.allTokenBytes(), eosTokenIDs: eosTokenIDs ?? tokenizer.eosTokenIDs))
    }
}
