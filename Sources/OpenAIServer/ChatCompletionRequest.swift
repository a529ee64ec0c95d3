import Engine

/// The body of `POST /v1/chat/completions`.
public struct ChatCompletionRequest: Decodable, Sendable {
    public var model: String?
    public var messages: [ChatRequestMessage]
    /// Return the log-probability of each generated token.
    public var logprobs: Bool
    /// Alternatives per token, 0...20; needs `logprobs`.
    public var topLogprobs: Int?
    public var stream: Bool
    public var streamOptions: StreamOptions?
    /// vLLM's: end the rendered prompt with the assistant's turn opener (default true).
    public var addGenerationPrompt: Bool
    /// vLLM's: render the last (assistant) message open, so that the answer continues it.
    public var continueFinalMessage: Bool
    /// vLLM's: put the last message's content before each answer when it is the assistant's.
    public var echo: Bool
    public var sampling: SamplingFields
    public var vllm: VLLMRequestFields

    enum CodingKeys: String, CodingKey {
        case model, messages, logprobs, stream
        case topLogprobs = "top_logprobs"
        case streamOptions = "stream_options"
        case addGenerationPrompt = "add_generation_prompt"
        case continueFinalMessage = "continue_final_message"
        case echo
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        messages = try container.decode([ChatRequestMessage].self, forKey: .messages)
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs) ?? false
        topLogprobs = try container.decodeIfPresent(Int.self, forKey: .topLogprobs)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        addGenerationPrompt = try container.decodeIfPresent(Bool.self, forKey: .addGenerationPrompt) ?? true
        continueFinalMessage = try container.decodeIfPresent(Bool.self, forKey: .continueFinalMessage) ?? false
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        sampling = try SamplingFields(from: decoder)
        vllm = try VLLMRequestFields(from: decoder)
    }

    /// Alternatives per token for the engine: nil when `logprobs` is off.
    func engineLogprobs() throws -> Int? {
        if let topLogprobs, !logprobs {
            throw OpenAIError.invalidRequest("top_logprobs (\(topLogprobs)) needs logprobs set to true.",
                                             param: "top_logprobs")
        }
        return logprobs ? (topLogprobs ?? 0) : nil
    }

    /// Checks the fields that are not sampling parameters.
    func validateShape() throws {
        if messages.isEmpty {
            throw OpenAIError.invalidRequest("messages must contain at least one message.", param: "messages")
        }
        if streamOptions != nil, !stream {
            throw OpenAIError.invalidRequest("stream_options is only allowed when stream is true.", param: "stream_options")
        }
        if continueFinalMessage, addGenerationPrompt {
            throw OpenAIError.invalidRequest("continue_final_message and add_generation_prompt cannot both be true: send "
                                                 + "add_generation_prompt false to continue the last message.",
                                             param: "continue_final_message")
        }
        if continueFinalMessage, messages.last?.role != "assistant" {
            throw OpenAIError.invalidRequest("continue_final_message needs the last message to be the assistant's.",
                                             param: "continue_final_message")
        }
        try vllm.validate()
    }

    /// The conversation as the chat template takes it.
    func chatMessages() throws -> [ChatMessage] {
        try messages.enumerated().map { index, message in try message.chatMessage(index: index) }
    }
}
