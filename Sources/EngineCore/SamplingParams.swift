/// How one request turns logits into tokens and when it stops.
///
/// Field meanings follow vLLM's `SamplingParams` and the OpenAI API. The scheduler reads only
/// the stop-related fields (`maxTokens`, `minTokens`, `ignoreEOS`, `stopTokenIDs`); the sampler
/// reads the rest; stop strings are matched on text by the frontend.
public struct SamplingParams: Sendable, Equatable {
    /// Completions to generate for the prompt. The frontend makes one `Request` per completion;
    /// they share the prompt's KV blocks through the prefix cache.
    public var n: Int
    /// Softmax temperature; 0 means greedy (argmax).
    public var temperature: Float
    /// Nucleus sampling: keep the smallest set of tokens whose probability sums to at least
    /// `topP`, in (0, 1]; 1 keeps all.
    public var topP: Float
    /// Keep only the `topK` most likely tokens; 0 or -1 turns it off.
    public var topK: Int
    /// Drop tokens whose probability is below `minP` times the most likely token's, in [0, 1].
    public var minP: Float
    /// Subtracted once from the logit of every token already generated, in [-2, 2].
    public var presencePenalty: Float
    /// Subtracted from a token's logit once per time it was generated, in [-2, 2].
    public var frequencyPenalty: Float
    /// Divides positive (multiplies negative) logits of tokens seen in the prompt or output;
    /// 1 is off; must be > 0.
    public var repetitionPenalty: Float
    /// Added to the logits of the given token ids before sampling, each in [-100, 100].
    public var logitBias: [Int32: Float]
    /// Seed of this request's random stream; nil draws from the engine's generator.
    public var seed: UInt64?
    /// Text that ends generation when it appears in the output (matched by the frontend).
    public var stop: [String]
    /// Token ids that end generation (the token is kept in the output).
    public var stopTokenIDs: [Int32]
    /// Keep generating after the model's end-of-sequence tokens.
    public var ignoreEOS: Bool
    /// Most tokens to generate; nil means until the context (`maxModelLen`) is full.
    public var maxTokens: Int?
    /// Fewest tokens to generate before EOS or a stop token id may end the request.
    public var minTokens: Int
    /// Number of most likely alternatives to return with each sampled token; nil returns none.
    public var logprobs: Int?
    /// Number of most likely alternatives to return for each prompt token; nil returns none.
    public var promptLogprobs: Int?
    /// Leave special tokens out of the detokenized text.
    public var skipSpecialTokens: Bool
    /// Keep the stop string that ended the output at the end of its text (vLLM's
    /// `include_stop_str_in_output`).
    public var includeStopStringInOutput = false
    /// When set, only these tokens may be sampled (vLLM's `allowed_token_ids`).
    public var allowedTokenIDs: [Int32]?
    /// Token sequences the output must not produce (vLLM's `bad_words`, tokenized): a word's
    /// last token is banned wherever the output ends with the rest of it.
    public var badWordsTokenIDs: [[Int32]] = []

    public init(
        n: Int = 1,
        temperature: Float = 1,
        topP: Float = 1,
        topK: Int = 0,
        minP: Float = 0,
        presencePenalty: Float = 0,
        frequencyPenalty: Float = 0,
        repetitionPenalty: Float = 1,
        logitBias: [Int32: Float] = [:],
        seed: UInt64? = nil,
        stop: [String] = [],
        stopTokenIDs: [Int32] = [],
        ignoreEOS: Bool = false,
        maxTokens: Int? = 16,
        minTokens: Int = 0,
        logprobs: Int? = nil,
        promptLogprobs: Int? = nil,
        skipSpecialTokens: Bool = true
    ) {
        self.n = n
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.repetitionPenalty = repetitionPenalty
        self.logitBias = logitBias
        self.seed = seed
        self.stop = stop
        self.stopTokenIDs = stopTokenIDs
        self.ignoreEOS = ignoreEOS
        self.maxTokens = maxTokens
        self.minTokens = minTokens
        self.logprobs = logprobs
        self.promptLogprobs = promptLogprobs
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Greedy decoding: always the most likely token.
    public static func greedy(maxTokens: Int? = 16) -> SamplingParams {
        SamplingParams(temperature: 0, maxTokens: maxTokens)
    }

    /// True when sampling reduces to argmax.
    public var isGreedy: Bool { temperature == 0 }

    /// `topK` when it restricts sampling, nil when it is off.
    public var effectiveTopK: Int? { topK > 0 ? topK : nil }
}
