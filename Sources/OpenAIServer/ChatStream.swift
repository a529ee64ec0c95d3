import Engine
import Foundation

/// The `/v1/chat/completions` response builder: a role chunk, then content chunks per choice
/// while streaming; the whole message otherwise.
struct ChatStream: ResponseBuilder {
    let id: String
    let created: Int
    let model: String
    let n: Int
    let promptLengths: [Int]
    let wantsLogprobs: Bool
    let formatter: LogprobsFormatter
    private var states: [ChoiceState]
    private var started: Set<Int> = []

    init(id: String, created: Int, model: String, n: Int, promptLengths: [Int], wantsLogprobs: Bool,
         formatter: LogprobsFormatter) {
        self.id = id
        self.created = created
        self.model = model
        self.n = n
        self.promptLengths = promptLengths
        self.wantsLogprobs = wantsLogprobs
        self.formatter = formatter
        states = Array(repeating: ChoiceState(), count: promptLengths.count * n)
    }

    mutating func chunks(for event: ChoiceOutput) throws -> [Data] {
        let output = event.output
        states[event.index].add(output)
        var chunks: [Data] = []
        if started.insert(event.index).inserted {
            // OpenAI opens each choice with the role and empty content.
            let opening = ChatCompletionChunk.Choice(index: event.index, delta: .init(role: "assistant", content: ""),
                                                     logprobs: nil, finishReason: nil, stopReason: nil)
            chunks.append(try chunk([opening]))
        }
        let entries = formatter.chatEntries(wantsLogprobs ? output.logprobs ?? [] : [])
        guard !output.newText.isEmpty || output.finishReason != nil || !entries.isEmpty else { return chunks }
        let choice = ChatCompletionChunk.Choice(
            index: event.index, delta: .init(content: output.newText.isEmpty ? nil : output.newText),
            logprobs: wantsLogprobs ? ChatLogprobs(content: entries) : nil,
            finishReason: output.finishReason?.rawValue, stopReason: output.finishReason != nil ? output.stopReason : nil)
        chunks.append(try chunk([choice]))
        return chunks
    }

    func finalChunks(includeUsage: Bool) throws -> [Data] {
        guard includeUsage else { return [] }
        var last = ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: nil)
        last.usage = ChoiceState.usage(states, promptLengths: promptLengths, n: n)
        return [try JSONResponse.data(last)]
    }

    func response(_ choices: [ChoiceState]) -> ChatCompletionResponse {
        let wire = choices.enumerated().map { index, choice in
            ChatCompletionResponse.Choice(
                index: index, message: .init(role: "assistant", content: choice.text),
                logprobs: wantsLogprobs ? ChatLogprobs(content: formatter.chatEntries(choice.logprobEntries)) : nil,
                finishReason: choice.finishReason, stopReason: choice.stopReason)
        }
        return ChatCompletionResponse(id: id, created: created, model: model, choices: wire,
                                      usage: ChoiceState.usage(choices, promptLengths: promptLengths, n: n))
    }

    private func chunk(_ choices: [ChatCompletionChunk.Choice]) throws -> Data {
        try JSONResponse.data(ChatCompletionChunk(id: id, created: created, model: model, choices: choices, usage: nil))
    }
}
