/// The body of `POST /tokenize`, in vLLM's form (a `prompt`, or chat `messages` rendered with
/// the chat template first; `return_token_strs`) or llama.cpp's (`content`, `add_special`,
/// `with_pieces`).
public struct TokenizeRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: String?
    /// llama.cpp's name for `prompt`.
    public var content: String?
    public var messages: [ChatRequestMessage]?
    /// For `prompt`: add the tokenizer's BOS when the model uses one (default true; with
    /// llama.cpp's `content`, `add_special`, default false).
    public var addSpecialTokens: Bool?
    public var addSpecial: Bool?
    /// For `messages` (default true).
    public var addGenerationPrompt: Bool?
    /// llama.cpp's: each token as `{"id", "piece"}`.
    public var withPieces: Bool?
    /// vLLM's: the vocabulary's strings of the tokens, as `token_strs`.
    public var returnTokenStrs: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, content, messages
        case addSpecialTokens = "add_special_tokens"
        case addSpecial = "add_special"
        case addGenerationPrompt = "add_generation_prompt"
        case withPieces = "with_pieces"
        case returnTokenStrs = "return_token_strs"
    }
}

/// The answer of `POST /tokenize`.
public struct TokenizeResponse: Encodable, Sendable, Equatable {
    /// A token of llama.cpp's `with_pieces` answer: its text, or its bytes when they are not
    /// UTF-8 on their own.
    public struct Piece: Encodable, Sendable, Equatable {
        public var id: Int
        public var piece: PieceValue
    }

    public enum PieceValue: Encodable, Sendable, Equatable {
        case text(String)
        case bytes([UInt8])

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .bytes(let bytes): try container.encode(bytes)
            }
        }
    }

    public var count: Int
    public var maxModelLen: Int
    public var tokens: [Int]
    public var pieces: [Piece]?
    public var tokenStrs: [String]?

    enum CodingKeys: String, CodingKey {
        case count, tokens
        case maxModelLen = "max_model_len"
        case tokenStrs = "token_strs"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(count, forKey: .count)
        try container.encode(maxModelLen, forKey: .maxModelLen)
        if let pieces { try container.encode(pieces, forKey: .tokens) } else { try container.encode(tokens, forKey: .tokens) }
        try container.encodeIfPresent(tokenStrs, forKey: .tokenStrs)
    }
}

/// The body of `POST /detokenize`.
public struct DetokenizeRequest: Decodable, Sendable {
    public var model: String?
    public var tokens: [Int]
}

/// The answer of `POST /detokenize`: the text as vLLM (`prompt`) and llama.cpp (`content`) name it.
public struct DetokenizeResponse: Codable, Sendable, Equatable {
    public var prompt: String
    public var content: String

    public init(prompt: String) {
        self.prompt = prompt
        content = prompt
    }
}
