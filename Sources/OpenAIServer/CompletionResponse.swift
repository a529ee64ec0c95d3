/// The body of a `/v1/completions` answer, and (with `object` the same) each streamed chunk.
public struct CompletionResponse: Codable, Sendable, Equatable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    /// Always present on a full response; on a stream only in the last chunk, when asked for.
    public var usage: Usage?

    public struct Choice: Codable, Sendable, Equatable {
        public var index: Int
        public var text: String
        public var logprobs: CompletionLogprobs?
        /// `stop`, `length` or `abort`; null on chunks before the last of the choice.
        public var finishReason: String?
        /// vLLM's: the stop string or stop token id that ended the choice, if one did.
        public var stopReason: String?
        /// vLLM's `prompt_logprobs` (first entry null), when asked for.
        public var promptLogprobs: [PromptLogprob?]?
        /// vLLM's `return_token_ids`: the prompt's (first chunk) and the generated token ids.
        public var promptTokenIDs: [Int32]?
        public var tokenIDs: [Int32]?

        enum CodingKeys: String, CodingKey {
            case index, text, logprobs
            case finishReason = "finish_reason"
            case stopReason = "stop_reason"
            case promptLogprobs = "prompt_logprobs"
            case promptTokenIDs = "prompt_token_ids"
            case tokenIDs = "token_ids"
        }

        public init(index: Int, text: String, logprobs: CompletionLogprobs?, finishReason: String?, stopReason: String?) {
            self.index = index
            self.text = text
            self.logprobs = logprobs
            self.finishReason = finishReason
            self.stopReason = stopReason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(text, forKey: .text)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encode(stopReason, forKey: .stopReason)
            try container.encodeIfPresent(promptLogprobs, forKey: .promptLogprobs)
            try container.encodeIfPresent(promptTokenIDs, forKey: .promptTokenIDs)
            try container.encodeIfPresent(tokenIDs, forKey: .tokenIDs)
        }
    }

    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        self.id = id
        object = "text_completion"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// Legacy completions logprobs: parallel lists over the choice's tokens.
public struct CompletionLogprobs: Codable, Sendable, Equatable {
    /// Each token's text.
    public var tokens: [String]
    /// Null for the first prompt token when `echo` shows the prompt's.
    public var tokenLogprobs: [Float?]
    /// Per token, the alternatives' text to their log-probability (null as above).
    public var topLogprobs: [[String: Float]?]
    /// Where each token starts in the choice's generated text, in Unicode scalars (Python's
    /// characters, as vLLM counts them).
    public var textOffset: [Int]

    enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }

    public init(tokens: [String] = [], tokenLogprobs: [Float?] = [], topLogprobs: [[String: Float]?] = [],
                textOffset: [Int] = []) {
        self.tokens = tokens
        self.tokenLogprobs = tokenLogprobs
        self.topLogprobs = topLogprobs
        self.textOffset = textOffset
    }
}
