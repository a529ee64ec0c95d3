import Engine
import Foundation

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
    /// Per choice, for usage and logprob text offsets while streaming.
    private var states: [ChoiceState]
    private var offsets: [Int]
    private var echoed: Set<Int> = []

    init(id: String, created: Int, model: String, n: Int, promptLengths: [Int], echoes: [String], wantsLogprobs: Bool,
         formatter: LogprobsFormatter) {
        self.id = id
        self.created = created
        self.model = model
        self.n = n
        self.promptLengths = promptLengths
        self.echoes = echoes
        self.wantsLogprobs = wantsLogprobs
        self.formatter = formatter
        states = Array(repeating: ChoiceState(), count: promptLengths.count * n)
        offsets = Array(repeating: 0, count: promptLengths.count * n)
    }

    mutating func chunks(for event: ChoiceOutput) throws -> [Data] {
        let output = event.output
        states[event.index].add(output)
        var text = output.newText
        if !echoes.isEmpty, echoed.insert(event.index).inserted {
            text = echoes[event.index / n] + text
        }
        var logprobs: CompletionLogprobs?
        if wantsLogprobs {
            var fresh = CompletionLogprobs()
            formatter.appendCompletion(output.logprobs ?? [], to: &fresh, offset: &offsets[event.index])
            logprobs = fresh
        }
        guard !text.isEmpty || output.finishReason != nil || !(logprobs?.tokens.isEmpty ?? true) else { return [] }
        let choice = CompletionResponse.Choice(index: event.index, text: text, logprobs: logprobs,
                                               finishReason: output.finishReason?.rawValue,
                                               stopReason: output.finishReason != nil ? output.stopReason : nil)
        return [try JSONResponse.data(CompletionResponse(id: id, created: created, model: model, choices: [choice],
                                                         usage: nil))]
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
                formatter.appendCompletion(choice.logprobEntries, to: &all, offset: &offset)
                logprobs = all
            }
            let echo = echoes.isEmpty ? "" : echoes[index / n]
            return CompletionResponse.Choice(index: index, text: echo + choice.text, logprobs: logprobs,
                                             finishReason: choice.finishReason, stopReason: choice.stopReason)
        }
        return CompletionResponse(id: id, created: created, model: model, choices: wire,
                                  usage: ChoiceState.usage(choices, promptLengths: promptLengths, n: n))
    }
}
