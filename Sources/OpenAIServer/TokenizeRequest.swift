/// The body of vLLM's `POST /tokenize`: a `prompt`, or chat `messages` rendered with the
/// chat template first.
public struct TokenizeRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: String?
    public var messages: [ChatRequestMessage]?
    /// For `prompt`: add the tokenizer's BOS when the model uses one (default true).
    public var addSpecialTokens: Bool?
    /// For `messages` (default true).
    public var addGenerationPrompt: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, messages
        case addSpecialTokens = "add_special_tokens"
        case addGenerationPrompt = "add_generation_prompt"
    }
}

/// The answer of `POST /tokenize`.
public struct TokenizeResponse: Codable, Sendable, Equatable {
    public var count: Int
    public var maxModelLen: Int
    public var tokens: [Int]

    enum CodingKeys: String, CodingKey {
        case count, tokens
        case maxModelLen = "max_model_len"
    }
}

/// The body of `POST /detokenize`.
public struct DetokenizeRequest: Decodable, Sendable {
    public var model: String?
    public var tokens: [Int]
}

/// The answer of `POST /detokenize`.
public struct DetokenizeResponse: Codable, Sendable, Equatable {
    public var prompt: String
}
