/// A sampling parameter out of its allowed range; the description names the field.
public struct InvalidSamplingParams: Error, Equatable, CustomStringConvertible {
    /// The offending field, as named in `SamplingParams`.
    public let field: String
    /// One readable line, e.g. "temperature must be >= 0, got -1".
    public let description: String
}

extension SamplingParams {
    /// Checks every field against its range (vLLM's and OpenAI's limits).
    ///
    /// - Parameters:
    ///   - vocabularySize: token ids in `logitBias` and `stopTokenIDs` must be below it.
    ///   - maxLogprobs: the most alternatives `logprobs` and `promptLogprobs` may ask for.
    /// - Throws: `InvalidSamplingParams` for the first field out of range.
    public func validate(vocabularySize: Int, maxLogprobs: Int = 20) throws {
        func fail(_ field: String, _ rule: String, _ value: String) -> InvalidSamplingParams {
            InvalidSamplingParams(field: field, description: "\(field) must be \(rule), got \(value)")
        }
        func check(_ field: String, _ value: Float, _ rule: String, _ ok: (Float) -> Bool) throws {
            guard value.isFinite, ok(value) else { throw fail(field, rule, Self.format(value)) }
        }

        guard n >= 1 else { throw fail("n", ">= 1", "\(n)") }
        try check("temperature", temperature, ">= 0") { $0 >= 0 }
        try check("topP", topP, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        guard topK >= -1 else { throw fail("topK", ">= 1, or 0 or -1 to turn it off", "\(topK)") }
        try check("minP", minP, "in [0, 1]") { $0 >= 0 && $0 <= 1 }
        try check("presencePenalty", presencePenalty, "in [-2, 2]") { $0 >= -2 && $0 <= 2 }
        try check("frequencyPenalty", frequencyPenalty, "in [-2, 2]") { $0 >= -2 && $0 <= 2 }
        try check("repetitionPenalty", repetitionPenalty, "> 0") { $0 > 0 }
        for (token, bias) in logitBias.sorted(by: { $0.key < $1.key }) {
            guard token >= 0, Int(token) < vocabularySize else {
                throw fail("logitBias", "keyed by token ids in [0, \(vocabularySize))", "token id \(token)")
            }
            try check("logitBias[\(token)]", bias, "in [-100, 100]") { $0 >= -100 && $0 <= 100 }
        }
        if let empty = stop.firstIndex(of: "") {
            throw fail("stop", "non-empty strings", "an empty string at index \(empty)")
        }
        for token in stopTokenIDs where token < 0 || Int(token) >= vocabularySize {
            throw fail("stopTokenIDs", "token ids in [0, \(vocabularySize))", "\(token)")
        }
        if let maxTokens, maxTokens < 1 { throw fail("maxTokens", ">= 1", "\(maxTokens)") }
        guard minTokens >= 0 else { throw fail("minTokens", ">= 0", "\(minTokens)") }
        if let maxTokens, minTokens > maxTokens {
            throw fail("minTokens", "<= maxTokens (\(maxTokens))", "\(minTokens)")
        }
        if let logprobs, logprobs < 0 || logprobs > maxLogprobs {
            throw fail("logprobs", "in [0, \(maxLogprobs)]", "\(logprobs)")
        }
        if let allowedTokenIDs {
            guard !allowedTokenIDs.isEmpty else { throw fail("allowedTokenIDs", "a non-empty list", "[]") }
            for token in allowedTokenIDs where token < 0 || Int(token) >= vocabularySize {
                throw fail("allowedTokenIDs", "token ids in [0, \(vocabularySize))", "\(token)")
            }
        }
        for word in badWordsTokenIDs {
            guard !word.isEmpty else { throw fail("badWords", "non-empty words", "an empty word") }
            for token in word where token < 0 || Int(token) >= vocabularySize {
                throw fail("badWords", "words of token ids in [0, \(vocabularySize))", "\(token)")
            }
        }
        if let promptLogprobs, promptLogprobs < 0 || promptLogprobs > maxLogprobs {
            throw fail("promptLogprobs", "in [0, \(maxLogprobs)]", "\(promptLogprobs)")
        }
    }

    /// Whole numbers print without a fraction ("-1", not "-1.0"), so messages read as typed.
    private static func format(_ value: Float) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        return "\(value)"
    }
}

extension SamplingParams {
    /// The tokens `badWordsTokenIDs` bans after `output`: a one-token word always, a longer
    /// one's last token where the output ends with the word's other tokens (vLLM's rule).
    public func badWordBans(after output: ArraySlice<Int32>) -> [Int32] {
        badWordsTokenIDs.compactMap { word in
            let prefix = word.dropLast()
            return prefix.count <= output.count && output.suffix(prefix.count).elementsEqual(prefix) ? word.last : nil
        }
    }
}
