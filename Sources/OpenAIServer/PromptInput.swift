/// The `prompt` of a completion request, in any of the four forms the API accepts:
/// a string, a list of strings, a list of token ids, or a list of token-id lists.
/// Each list entry is a separate prompt with its own choices.
public enum PromptInput: Decodable, Sendable, Equatable {
    case text([String])
    case tokens([[Int]])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text([text])
        } else if let texts = try? container.decode([String].self) {
            self = .text(texts)
        } else if let ids = try? container.decode([Int].self) {
            self = .tokens([ids])
        } else if let lists = try? container.decode([[Int]].self) {
            self = .tokens(lists)
        } else {
            throw OpenAIError.invalidRequest(
                "prompt: expected a string, a list of strings, a list of token ids or a list of token-id lists.",
                param: "prompt")
        }
    }

    /// How many separate prompts this is.
    public var count: Int {
        switch self {
        case .text(let texts): texts.count
        case .tokens(let lists): lists.count
        }
    }
}

/// A field the API takes as one string or a list of strings (`stop`).
public struct StringList: Decodable, Sendable, Equatable {
    public var values: [String]

    public init(_ values: [String]) { self.values = values }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            values = []
        } else if let one = try? container.decode(String.self) {
            values = [one]
        } else {
            values = try container.decode([String].self)
        }
    }
}

/// `stream_options`: only meaningful when `stream` is true.
public struct StreamOptions: Decodable, Sendable, Equatable {
    /// Send one last chunk with the request's `usage` (and no choices) before `[DONE]`.
    public var includeUsage: Bool
    /// vLLM's: every chunk carries the usage so far.
    public var continuousUsageStats: Bool

    enum CodingKeys: String, CodingKey {
        case includeUsage = "include_usage"
        case continuousUsageStats = "continuous_usage_stats"
    }

    public init(includeUsage: Bool, continuousUsageStats: Bool = false) {
        self.includeUsage = includeUsage
        self.continuousUsageStats = continuousUsageStats
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        includeUsage = try container.decodeIfPresent(Bool.self, forKey: .includeUsage) ?? false
        continuousUsageStats = try container.decodeIfPresent(Bool.self, forKey: .continuousUsageStats) ?? false
    }
}

/// `response_format`'s type; the constraint it carries is read by `StructuredOutputFields`.
public struct ResponseFormat: Decodable, Sendable, Equatable {
    public var type: String
}
