import Engine
import EngineCore
import Tokenization

/// vLLM's extra request fields that both generation routes share: prompt logprobs, token ids
/// in the answer, stop strings kept, allowed tokens and bad words, prompt truncation, and beam
/// search (refused with a 400: Tern samples, it does not search).
public struct VLLMRequestFields: Decodable, Sendable, Equatable {
    /// Alternatives per prompt token (vLLM's layout in the answer); nil for none.
    public var promptLogprobs: Int?
    /// Logprob tokens as `token_id:N` instead of their text.
    public var returnTokensAsTokenIDs = false
    /// `prompt_token_ids` and `token_ids` in the answer.
    public var returnTokenIDs = false
    public var includeStopStrInOutput = false
    public var allowedTokenIDs: [Int]?
    public var badWords: [String]?
    /// Keep only the last k prompt tokens (-1: the context length).
    public var truncatePromptTokens: Int?
    public var useBeamSearch = false

    enum CodingKeys: String, CodingKey {
        case promptLogprobs = "prompt_logprobs"
        case returnTokensAsTokenIDs = "return_tokens_as_token_ids"
        case returnTokenIDs = "return_token_ids"
        case includeStopStrInOutput = "include_stop_str_in_output"
        case allowedTokenIDs = "allowed_token_ids"
        case badWords = "bad_words"
        case truncatePromptTokens = "truncate_prompt_tokens"
        case useBeamSearch = "use_beam_search"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptLogprobs = try c.decodeIfPresent(Int.self, forKey: .promptLogprobs)
        returnTokensAsTokenIDs = try c.decodeIfPresent(Bool.self, forKey: .returnTokensAsTokenIDs) ?? false
        returnTokenIDs = try c.decodeIfPresent(Bool.self, forKey: .returnTokenIDs) ?? false
        includeStopStrInOutput = try c.decodeIfPresent(Bool.self, forKey: .includeStopStrInOutput) ?? false
        allowedTokenIDs = try c.decodeIfPresent([Int].self, forKey: .allowedTokenIDs)
        badWords = try c.decodeIfPresent([String].self, forKey: .badWords)
        truncatePromptTokens = try c.decodeIfPresent(Int.self, forKey: .truncatePromptTokens)
        useBeamSearch = try c.decodeIfPresent(Bool.self, forKey: .useBeamSearch) ?? false
    }

    /// Refuses what is out of range before anything is tokenized.
    func validate() throws {
        if useBeamSearch {
            throw OpenAIError.invalidRequest("use_beam_search is not supported: Tern samples (n, best_of = n); "
                                                 + "send use_beam_search false.", param: "use_beam_search")
        }
        if let promptLogprobs, promptLogprobs < 0 {
            throw OpenAIError.invalidRequest("prompt_logprobs must be >= 0, got \(promptLogprobs).", param: "prompt_logprobs")
        }
        if let truncatePromptTokens, truncatePromptTokens < -1 || truncatePromptTokens == 0 {
            throw OpenAIError.invalidRequest("truncate_prompt_tokens must be >= 1, or -1 for the context length, got "
                                                 + "\(truncatePromptTokens).", param: "truncate_prompt_tokens")
        }
    }

    /// The last `truncate_prompt_tokens` of `prompt` (vLLM truncates on the left).
    func truncated(_ prompt: [Int32], maxModelLen: Int) throws -> [Int32] {
        guard let truncatePromptTokens else { return prompt }
        let keep = truncatePromptTokens == -1 ? maxModelLen : truncatePromptTokens
        if keep > maxModelLen {
            throw OpenAIError.invalidRequest("truncate_prompt_tokens (\(keep)) is larger than the model's maximum context "
                                                 + "length (\(maxModelLen)).", param: "truncate_prompt_tokens")
        }
        return prompt.count > keep ? Array(prompt.suffix(keep)) : prompt
    }

    /// `params` with these fields' engine parameters; `logprobsForEcho` asks prompt logprobs of
    /// that many alternatives too (completions' `echo` with `logprobs`).
    func apply(to params: inout SamplingParams, tokenizer: Tokenizer, vocabularySize: Int,
               logprobsForEcho: Int? = nil) throws {
        if let promptLogprobs { params.promptLogprobs = promptLogprobs }
        if let logprobsForEcho { params.promptLogprobs = max(params.promptLogprobs ?? 0, logprobsForEcho) }
        params.includeStopStringInOutput = includeStopStrInOutput
        if let allowedTokenIDs {
            params.allowedTokenIDs = try allowedTokenIDs.map { try SamplingFields.tokenID($0, field: "allowed_token_ids") }
        }
        if let badWords {
            params.badWordsTokenIDs = Self.badWordTokens(badWords, tokenizer: tokenizer)
        }
        do {
            try params.validate(vocabularySize: vocabularySize)
        } catch let error as InvalidSamplingParams {
            let names = ["allowedTokenIDs": "allowed_token_ids", "badWords": "bad_words", "promptLogprobs": "prompt_logprobs"]
            let param = names[error.field] ?? error.field
            throw OpenAIError.invalidRequest(param + error.description.dropFirst(error.field.count), param: param)
        }
    }

    /// Each bad word's tokens as vLLM finds them: the word as written and, where it tokenizes
    /// to as many tokens with another first one, after a space (as it appears mid-text).
    static func badWordTokens(_ words: [String], tokenizer: Tokenizer) -> [[Int32]] {
        var result: [[Int32]] = []
        for word in words {
            let bare = String(word.drop { $0 == " " })
            let plain = tokenizer.encode(bare, addSpecialTokens: false)
            guard !plain.isEmpty else { continue }
            result.append(plain)
            let spaced = tokenizer.encode(" " + bare, addSpecialTokens: false)
            if !spaced.isEmpty, spaced.count == plain.count, spaced.first != plain.first { result.append(spaced) }
        }
        return result
    }
}
