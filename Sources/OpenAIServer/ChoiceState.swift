import Engine

/// What one choice has produced so far (non-streamed responses and usage totals).
struct ChoiceState {
    var text = ""
    var tokenCount = 0
    var cachedTokens = 0
    var finishReason: String?
    var stopReason: String?
    var logprobEntries: [TokenLogprob] = []
    var tokenIDs: [Int32] = []
    /// The prompt's logprobs (first entry nil), when asked for.
    var promptLogprobs: [TokenLogprob?]?

    mutating func add(_ output: RequestOutput) {
        text += output.newText
        tokenIDs += output.newTokenIDs
        if let prompt = output.promptLogprobs { promptLogprobs = (promptLogprobs ?? []) + prompt }
        tokenCount = output.outputTokenCount
        cachedTokens = max(cachedTokens, output.cachedTokenCount)
        if let logprobs = output.logprobs { logprobEntries += logprobs }
        if let reason = output.finishReason {
            finishReason = reason.rawValue
            stopReason = output.stopReason
        }
    }

    /// Usage over choices: each prompt counted once (cached tokens from its first choice),
    /// every choice's generated tokens.
    static func usage(_ choices: [ChoiceState], promptLengths: [Int], n: Int) -> Usage {
        var cached = 0
        for (index, choice) in choices.enumerated() where index % n == 0 { cached += choice.cachedTokens }
        return Usage(promptTokens: promptLengths.reduce(0, +), completionTokens: choices.reduce(0) { $0 + $1.tokenCount },
                     cachedTokens: cached)
    }
}
