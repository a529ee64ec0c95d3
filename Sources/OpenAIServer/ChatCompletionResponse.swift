/// The body of a non-streamed `/v1/chat/completions` answer.
public struct ChatCompletionResponse: Codable, Sendable, Equatable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage
    /// vLLM's `prompt_logprobs` (first entry null), when asked for.
    public var promptLogprobs: [PromptLogprob?]?
    /// vLLM's `return_token_ids`.
    public var promptTokenIDs: [Int32]?

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
        case promptLogprobs = "prompt_logprobs"
        case promptTokenIDs = "prompt_token_ids"
    }

    public struct Choice: Codable, Sendable, Equatable {
        public var index: Int
        public var message: Message
        public var logprobs: ChatLogprobs?
        public var finishReason: String?
        public var stopReason: String?
        /// vLLM's `return_token_ids`: the generated token ids.
        public var tokenIDs: [Int32]?

        enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
            case stopReason = "stop_reason"
            case tokenIDs = "token_ids"
        }

        public init(index: Int, message: Message, logprobs: ChatLogprobs?, finishReason: String?, stopReason: String?) {
            self.index = index
            self.message = message
            self.logprobs = logprobs
            self.finishReason = finishReason
            self.stopReason = stopReason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(message, forKey: .message)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encode(stopReason, forKey: .stopReason)
            try container.encodeIfPresent(tokenIDs, forKey: .tokenIDs)
        }
    }

    /// The assistant's reply: `content` is null when the reply is only tool calls.
    public struct Message: Codable, Sendable, Equatable {
        public var role: String
        public var content: String?
        /// The model's reasoning, when a reasoning parser split it off.
        public var reasoningContent: String?
        public var toolCalls: [ToolCall]?

        enum CodingKeys: String, CodingKey {
            case role, content
            case reasoningContent = "reasoning_content"
            case toolCalls = "tool_calls"
        }

        public init(role: String, content: String?, reasoningContent: String? = nil, toolCalls: [ToolCall]? = nil) {
            self.role = role
            self.content = content
            self.reasoningContent = reasoningContent
            self.toolCalls = toolCalls
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(role, forKey: .role)
            try container.encode(content, forKey: .content)
            try container.encodeIfPresent(reasoningContent, forKey: .reasoningContent)
            try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        }
    }

    /// One call in `message.tool_calls`.
    public struct ToolCall: Codable, Sendable, Equatable {
        public var id: String
        public var type: String
        public var function: Function

        public struct Function: Codable, Sendable, Equatable {
            public var name: String
            /// The arguments as JSON text.
            public var arguments: String
        }

        public init(id: String, name: String, arguments: String) {
            self.id = id
            type = "function"
            function = Function(name: name, arguments: arguments)
        }
    }

    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage) {
        self.id = id
        object = "chat.completion"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// Chat logprobs: one entry per generated token, each with its alternatives.
public struct ChatLogprobs: Codable, Sendable, Equatable {
    public var content: [Entry]

    public struct Entry: Codable, Sendable, Equatable {
        public var token: String
        public var logprob: Float
        /// The token's UTF-8 bytes (a token may hold part of a character).
        public var bytes: [UInt8]
        /// Absent on alternatives themselves.
        public var topLogprobs: [Entry]?

        enum CodingKeys: String, CodingKey {
            case token, logprob, bytes
            case topLogprobs = "top_logprobs"
        }
    }

    public init(content: [Entry] = []) { self.content = content }
}

/// One streamed chunk of a chat completion.
public struct ChatCompletionChunk: Codable, Sendable, Equatable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
    /// vLLM's `prompt_logprobs` and `return_token_ids`, on the first chunk.
    public var promptLogprobs: [PromptLogprob?]?
    public var promptTokenIDs: [Int32]?

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
        case promptLogprobs = "prompt_logprobs"
        case promptTokenIDs = "prompt_token_ids"
    }

    public struct Choice: Codable, Sendable, Equatable {
        public var index: Int
        public var delta: Delta
        public var logprobs: ChatLogprobs?
        public var finishReason: String?
        public var stopReason: String?
        /// vLLM's `return_token_ids`: the chunk's token ids.
        public var tokenIDs: [Int32]?

        enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
            case stopReason = "stop_reason"
            case tokenIDs = "token_ids"
        }

        public init(index: Int, delta: Delta, logprobs: ChatLogprobs?, finishReason: String?, stopReason: String?) {
            self.index = index
            self.delta = delta
            self.logprobs = logprobs
            self.finishReason = finishReason
            self.stopReason = stopReason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
            try container.encode(stopReason, forKey: .stopReason)
            try container.encodeIfPresent(tokenIDs, forKey: .tokenIDs)
        }
    }

    /// What the chunk adds to the message: the role on the first chunk, then text, reasoning
    /// or pieces of tool calls.
    public struct Delta: Codable, Sendable, Equatable {
        public var role: String?
        public var content: String?
        public var reasoningContent: String?
        public var toolCalls: [ToolCallDelta]?

        enum CodingKeys: String, CodingKey {
            case role, content
            case reasoningContent = "reasoning_content"
            case toolCalls = "tool_calls"
        }

        public init(role: String? = nil, content: String? = nil, reasoningContent: String? = nil,
                    toolCalls: [ToolCallDelta]? = nil) {
            self.role = role
            self.content = content
            self.reasoningContent = reasoningContent
            self.toolCalls = toolCalls
        }
    }

    /// OpenAI's incremental tool call: the first delta of a call has its `id`, `type` and
    /// `function.name`; later ones add `function.arguments` text.
    public struct ToolCallDelta: Codable, Sendable, Equatable {
        public var index: Int
        public var id: String?
        public var type: String?
        public var function: Function

        public struct Function: Codable, Sendable, Equatable {
            public var name: String?
            public var arguments: String?
        }
    }

    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        self.id = id
        object = "chat.completion.chunk"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// One prompt position of vLLM's `prompt_logprobs`: token id (as a JSON key) to its logprob,
/// rank and text, for the prompt's token and the most likely alternatives.
public typealias PromptLogprob = [String: PromptLogprobEntry]

public struct PromptLogprobEntry: Codable, Sendable, Equatable {
    public var logprob: Float
    /// 1 = the most likely token.
    public var rank: Int
    public var decodedToken: String

    enum CodingKeys: String, CodingKey {
        case logprob, rank
        case decodedToken = "decoded_token"
    }

    public init(logprob: Float, rank: Int, decodedToken: String) {
        self.logprob = logprob
        self.rank = rank
        self.decodedToken = decodedToken
    }
}
