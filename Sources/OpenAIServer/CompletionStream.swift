import Engine
import Foundation

/// What a response shows besides text, as vLLM's extra fields ask.
struct ResponseExtras: Sendable {
    /// Each prompt's token ids, sent as `prompt_token_ids` when `returnTokenIDs`.
    var promptTokenIDs: [[Int32]] = []
    /// `prompt_token_ids` and `token_ids` in the answer.
    var returnTokenIDs = false
    /// vLLM's `prompt_logprobs` in the answer.
    var promptLogprobs = false
    /// Every chunk carries the usage so far (`continuous_usage_stats`).
    var continuousUsage = false
}

/// The `/v1/completions` response builder: text chunks per choice while streaming, the whole
/// response otherwise.
struct CompletionStream: ResponseBuilder {
    let id: String
    let created: Int
    let model: String
    let n: Int
    let promptLengths: [Int]
    /// Per prompt, its text when `echo` is set (empty otherwise).
    let echoes: [String]
    let wantsLogprobs: Bool
    let formatter: LogprobsFormatter
    let extras: ResponseExtras
    /// Per choice, for usage and logprob text offsets while streaming.
    private var states: [ChoiceState]
    private var offsets: [Int]
    private var echoed: Set<Int> = []

    init(id: String, created: Int, model: String, n: Int, promptLengths: [Int], echoes: [String], wantsLogprobs: Bool,
         formatter: LogprobsFormatter, extras: ResponseExtras = ResponseExtras()) {
        self.id = id
        self.created = created
        self.model = model
        self.n = n
        self.promptLengths = promptLengths
        self.echoes = echoes
        self.wantsLogprobs = wantsLogprobs
        self.formatter = formatter
        self.extras = extras
        states = Array(repeating: ChoiceState(), count: promptLengths.count * n)
        offsets = Array(repeating: 0, count: promptLengths.count * n)
    }

    /// With `echo` and `logprobs`, the prompt's entries come first (the first one null).
    private var echoesLogprobs: Bool { wantsLogprobs && !echoes.isEmpty }

    mutating func chunks(for event: ChoiceOutput) throws -> [Data] {
        let output = event.output
        states[event.index].add(output)
        let first = echoed.insert(event.index).inserted
        var text = output.newText
        if !echoes.isEmpty, first { text = echoes[event.index / n] + text }
        var logprobs: CompletionLogprobs?
        if wantsLogprobs {
            var fresh = CompletionLogprobs()
            if echoesLogprobs, let prompt = output.promptLogprobs {
                formatter.appendCompletion(prompt, tokenIDs: extras.promptTokenIDs[event.index / n], to: &fresh,
                                           offset: &offsets[event.index])
            }
            formatter.appendCompletion(output.logprobs ?? [], to: &fresh, offset: &offsets[event.index])
            logprobs = fresh
        }
        let promptLogprobs = extras.promptLogprobs ? output.promptLogprobs.map(formatter.promptLogprobs) : nil
        guard !text.isEmpty || output.finishReason != nil || !(logprobs?.tokens.isEmpty ?? true) || promptLogprobs != nil
              || (extras.returnTokenIDs && (first || !output.newTokenIDs.isEmpty)) else { return [] }
        var choice = CompletionResponse.Choice(index: event.index, text: text, logprobs: logprobs,
                                               finishReason: output.finishReason?.rawValue,
                                               stopReason: output.finishReason != nil ? output.stopReason : nil)
        choice.promptLogprobs = promptLogprobs
        if extras.returnTokenIDs {
            if first { choice.promptTokenIDs = extras.promptTokenIDs[event.index / n] }
            choice.tokenIDs = output.newTokenIDs
        }
        let usage = extras.continuousUsage ? ChoiceState.usage(states, promptLengths: promptLengths, n: n) : nil
        return [try JSONResponse.data(CompletionResponse(id: id, created: created, model: model, choices: [choice],
                                                         usage: usage))]
    }

    func finalChunks(includeUsage: Bool) throws -> [Data] {
        guard includeUsage else { return [] }
        let usage = ChoiceState.usage(states, promptLengths: promptLengths, n: n)
        return [try JSONResponse.data(CompletionResponse(id: id, created: created, model: model, choices: [],
                                                         usage: usage))]
    }

    func response(_ choices: [ChoiceState]) -> CompletionResponse {
        let wire = choices.enumerated().map { index, choice in
            var logprobs: CompletionLogprobs?
            if wantsLogprobs {
                var all = CompletionLogprobs()
                var offset = 0
                if echoesLogprobs, let prompt = choice.promptLogprobs {
                    formatter.appendCompletion(prompt, tokenIDs: extras.promptTokenIDs[index / n], to: &all, offset: &offset)
                }
                formatter.appendCompletion(choice.logprobEntries, to: &all, offset: &offset)
                logprobs = all
            }
            let echo = echoes.isEmpty ? "" : echoes[index / n]
            var wire = CompletionResponse.Choice(index: index, text: echo + choice.text, logprobs: logprobs,
                                                 finishReason: choice.finishReason, stopReason: choice.stopReason)
            if extras.promptLogprobs { wire.promptLogprobs = choice.promptLogprobs.map(formatter.promptLogprobs) }
            if extras.returnTokenIDs {
                wire.promptTokenIDs = extras.promptTokenIDs[index / n]
                wire.tokenIDs = choice.tokenIDs
            }
            return wire
        }
        return CompletionResponse(id: id, created: created, model: model, choices: wire,
                                  usage: ChoiceState.usage(choices, promptLengths: promptLengths, n: n))
    }
}
