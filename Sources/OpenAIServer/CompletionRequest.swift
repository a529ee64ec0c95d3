/// The body of `POST /v1/completions` (OpenAI's fields and vLLM's extras; unknown fields are
/// ignored, as both servers do).
public struct CompletionRequest: Decodable, Sendable {
    /// Nil lets the served model answer.
    public var model: String?
    public var prompt: PromptInput
    /// Put the prompt's text before each choice's text.
    public var echo: Bool
    /// Alternatives to return per token, 0...20 (nil for no logprobs).
    public var logprobs: Int?
    public var stream: Bool
    public var streamOptions: StreamOptions?
    /// Insertion after the completion; not served.
    public var suffix: String?
    /// Add the tokenizer's BOS (when the model uses one) to text prompts.
    public var addSpecialTokens: Bool
    public var sampling: SamplingFields
    public var vllm: VLLMRequestFields

    enum CodingKeys: String, CodingKey {
        case model, prompt, echo, logprobs, stream, suffix
        case streamOptions = "stream_options"
        case addSpecialTokens = "add_special_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        prompt = try container.decode(PromptInput.self, forKey: .prompt)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        suffix = try container.decodeIfPresent(String.self, forKey: .suffix)
        addSpecialTokens = try container.decodeIfPresent(Bool.self, forKey: .addSpecialTokens) ?? true
        sampling = try SamplingFields(from: decoder)
        vllm = try VLLMRequestFields(from: decoder)
    }

    /// Checks the fields that are not sampling parameters.
    func validateShape() throws {
        if let suffix, !suffix.isEmpty {
            throw OpenAIError.invalidRequest("suffix is not supported.", param: "suffix")
        }
        if streamOptions != nil, !stream {
            throw OpenAIError.invalidRequest("stream_options is only allowed when stream is true.", param: "stream_options")
        }
        if prompt.count == 0 {
            throw OpenAIError.invalidRequest("prompt must not be an empty list.", param: "prompt")
        }
        try vllm.validate()
    }
}
