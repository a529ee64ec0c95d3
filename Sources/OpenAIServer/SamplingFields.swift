import Engine
import EngineCore

/// The sampling fields both generation endpoints share, decoded from the request's top level
/// with OpenAI's names and vLLM's extras (`top_k`, `min_p`, `repetition_penalty`, `ignore_eos`,
/// `min_tokens`, `stop_token_ids`, `skip_special_tokens`).
public struct SamplingFields: Decodable, Sendable, Equatable {
    public var n: Int?
    public var bestOf: Int?
    public var temperature: Float?
    public var topP: Float?
    public var topK: Int?
    public var minP: Float?
    public var presencePenalty: Float?
    public var frequencyPenalty: Float?
    public var repetitionPenalty: Float?
    /// Token ids as strings (JSON object keys) to a bias in [-100, 100].
    public var logitBias: [String: Float]?
    public var seed: Int64?
    public var stop: StringList?
    public var stopTokenIDs: [Int]?
    public var ignoreEOS: Bool?
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var minTokens: Int?
    public var skipSpecialTokens: Bool?
    public var responseFormat: ResponseFormat?

    enum CodingKeys: String, CodingKey {
        case n
        case bestOf = "best_of"
        case temperature
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty"
        case logitBias = "logit_bias"
        case seed
        case stop
        case stopTokenIDs = "stop_token_ids"
        case ignoreEOS = "ignore_eos"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case minTokens = "min_tokens"
        case skipSpecialTokens = "skip_special_tokens"
        case responseFormat = "response_format"
    }

    public init() {}

    /// The engine's parameters for these fields, validated against the model.
    ///
    /// - Parameters:
    ///   - defaultMaxTokens: used when neither `max_tokens` nor `max_completion_tokens` is set;
    ///     nil lets the request run until the context is full.
    ///   - logprobs: alternatives to return per token (nil for none); `logprobsField` names the
    ///     field it came from, for error messages.
    /// - Throws: `OpenAIError` (400) naming the first field out of range.
    ///   - maxN: the largest `n` the server takes (`--max-n`).
    public func samplingParams(defaultMaxTokens: Int?, logprobs: Int?, logprobsField: String,
                               vocabularySize: Int, maxN: Int = 128) throws -> SamplingParams {
        let count = n ?? 1
        if count > maxN {
            throw OpenAIError.invalidRequest("n must be <= \(maxN) (the server's --max-n), got \(count).", param: "n")
        }
        if let bestOf, bestOf != count {
            throw OpenAIError.invalidRequest("best_of is not supported unless it equals n (\(count)), got \(bestOf).",
                                             param: "best_of")
        }
        var bias: [Int32: Float] = [:]
        for (key, value) in logitBias ?? [:] {
            guard let id = Int32(key) else {
                throw OpenAIError.invalidRequest("logit_bias keys must be token ids, got \"\(key)\".", param: "logit_bias")
            }
            bias[id] = value
        }
        let maxTokensField = maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
        let params = SamplingParams(
            n: count,
            temperature: temperature ?? 1,
            topP: topP ?? 1,
            topK: topK ?? 0,
            minP: minP ?? 0,
            presencePenalty: presencePenalty ?? 0,
            frequencyPenalty: frequencyPenalty ?? 0,
            repetitionPenalty: repetitionPenalty ?? 1,
            logitBias: bias,
            seed: seed.map { UInt64(bitPattern: $0) },
            stop: stop?.values ?? [],
            stopTokenIDs: try (stopTokenIDs ?? []).map { try Self.tokenID($0, field: "stop_token_ids") },
            ignoreEOS: ignoreEOS ?? false,
            maxTokens: maxCompletionTokens ?? maxTokens ?? defaultMaxTokens,
            minTokens: minTokens ?? 0,
            logprobs: logprobs,
            skipSpecialTokens: skipSpecialTokens ?? true)
        do {
            try params.validate(vocabularySize: vocabularySize)
        } catch let error as InvalidSamplingParams {
            let api = Self.apiName(of: error.field, maxTokensField: maxTokensField, logprobsField: logprobsField)
            let message = api.name + error.description.dropFirst(error.field.count)
            throw OpenAIError.invalidRequest(message, param: api.param)
        }
        return params
    }

    /// A token id from JSON, which must fit the engine's Int32 ids.
    static func tokenID(_ value: Int, field: String) throws -> Int32 {
        guard let id = Int32(exactly: value), id >= 0 else {
            throw OpenAIError.invalidRequest("\(field) must hold token ids >= 0, got \(value).", param: field)
        }
        return id
    }

    /// The API's spelling of a `SamplingParams` field (`topP` -> `top_p`); `logitBias[7]` keeps
    /// its index (`logit_bias[7]`) in the message while `param` names the field.
    private static func apiName(of field: String, maxTokensField: String, logprobsField: String)
        -> (name: String, param: String)
    {
        let base = field.prefix { $0 != "[" }
        let index = field.dropFirst(base.count)
        let names = [
            "n": "n", "temperature": "temperature", "topP": "top_p", "topK": "top_k", "minP": "min_p",
            "presencePenalty": "presence_penalty", "frequencyPenalty": "frequency_penalty",
            "repetitionPenalty": "repetition_penalty", "logitBias": "logit_bias", "stop": "stop",
            "stopTokenIDs": "stop_token_ids", "maxTokens": maxTokensField, "minTokens": "min_tokens",
            "logprobs": logprobsField, "promptLogprobs": "prompt_logprobs",
        ]
        let param = names[String(base)] ?? String(base)
        return (param + index, param)
    }
}
