import Engine
import Foundation
import ToolParsing

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
    let extras: ResponseExtras
    /// vLLM's chat `echo`: the last (assistant) message's content, before each answer's.
    let echo: String
    /// A fresh parser of one choice's text (reasoning, tool calls).
    let makeParser: @Sendable () -> ChatMessageParser
    private var states: [ChoiceState]
    private var parsers: [ChatMessageParser]
    private var started: Set<Int> = []

    init(id: String, created: Int, model: String, n: Int, promptLengths: [Int], wantsLogprobs: Bool,
         formatter: LogprobsFormatter, extras: ResponseExtras = ResponseExtras(), echo: String = "",
         makeParser: @escaping @Sendable () -> ChatMessageParser = { ChatMessageParser(reasoning: nil, tools: .none) }) {
        self.extras = extras
        self.echo = echo
        self.id = id
        self.created = created
        self.model = model
        self.n = n
        self.promptLengths = promptLengths
        self.wantsLogprobs = wantsLogprobs
        self.formatter = formatter
        self.makeParser = makeParser
        states = Array(repeating: ChoiceState(), count: promptLengths.count * n)
        parsers = (0..<promptLengths.count * n).map { _ in makeParser() }
    }

    mutating func chunks(for event: ChoiceOutput) throws -> [Data] {
        let output = event.output
        states[event.index].add(output)
        var chunks: [Data] = []
        if started.insert(event.index).inserted {
            // OpenAI opens each choice with the role and empty content (vLLM's echo there).
            let opening = ChatCompletionChunk.Choice(index: event.index, delta: .init(role: "assistant", content: echo),
                                                     logprobs: nil, finishReason: nil, stopReason: nil)
            var first = ChatCompletionChunk(id: id, created: created, model: model, choices: [opening], usage: nil)
            if event.index == 0 {
                if extras.returnTokenIDs { first.promptTokenIDs = extras.promptTokenIDs.first }
            }
            chunks.append(try JSONResponse.data(first))
        }
        let entries = formatter.chatEntries(wantsLogprobs ? output.logprobs ?? [] : [])
        var pieces = parsers[event.index].feed(output.newText)
        if let reason = output.finishReason { pieces += parsers[event.index].finish(truncated: reason == .length) }
        var deltas = pieces.map(Self.delta)
        let finishReason = output.finishReason.map {
            Self.finishReason($0.rawValue, calls: parsers[event.index].callCount)
        }
        let promptLogprobs = extras.promptLogprobs ? output.promptLogprobs.map(formatter.promptLogprobs) : nil
        if deltas.isEmpty, finishReason != nil || !entries.isEmpty || promptLogprobs != nil
            || (extras.returnTokenIDs && !output.newTokenIDs.isEmpty) { deltas = [.init()] }
        for (position, delta) in deltas.enumerated() {
            let last = position == deltas.count - 1
            var choice = ChatCompletionChunk.Choice(
                index: event.index, delta: delta,
                logprobs: wantsLogprobs && position == 0 ? ChatLogprobs(content: entries) : nil,
                finishReason: last ? finishReason : nil, stopReason: last && output.finishReason != nil ? output.stopReason : nil)
            if extras.returnTokenIDs { choice.tokenIDs = position == 0 ? output.newTokenIDs : [] }
            var wire = ChatCompletionChunk(id: id, created: created, model: model, choices: [choice], usage: nil)
            if position == 0 { wire.promptLogprobs = promptLogprobs }
            if extras.continuousUsage { wire.usage = ChoiceState.usage(states, promptLengths: promptLengths, n: n) }
            chunks.append(try JSONResponse.data(wire))
        }
        return chunks
    }

    /// `tool_calls` when the model called tools and stopped by itself, else the engine's reason.
    static func finishReason(_ reason: String, calls: Int) -> String {
        calls > 0 && reason == "stop" ? "tool_calls" : reason
    }

    private static func delta(_ piece: ChatMessageParser.Piece) -> ChatCompletionChunk.Delta {
        switch piece {
        case .content(let text):
            return .init(content: text)
        case .reasoning(let text):
            return .init(reasoningContent: text)
        case .callStart(let index, let id, let name):
            return .init(toolCalls: [.init(index: index, id: id, type: "function", function: .init(name: name, arguments: ""))])
        case .arguments(let index, let fragment):
            return .init(toolCalls: [.init(index: index, id: nil, type: nil, function: .init(name: nil, arguments: fragment))])
        }
    }

    func finalChunks(includeUsage: Bool) throws -> [Data] {
        guard includeUsage else { return [] }
        var last = ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: nil)
        last.usage = ChoiceState.usage(states, promptLengths: promptLengths, n: n)
        return [try JSONResponse.data(last)]
    }

    func response(_ choices: [ChoiceState]) -> ChatCompletionResponse {
        let wire = choices.enumerated().map { index, choice in
            var parser = makeParser()
            let message = ParsedChatMessage(parser.feed(choice.text) + parser.finish(truncated: choice.finishReason == "length"))
            let calls = message.calls.map { ChatCompletionResponse.ToolCall(id: $0.id, name: $0.name, arguments: $0.arguments) }
            var wire = ChatCompletionResponse.Choice(
                index: index,
                message: .init(role: "assistant",
                               content: calls.isEmpty || !message.content.isEmpty ? echo + message.content : nil,
                               reasoningContent: message.reasoning.isEmpty ? nil : message.reasoning,
                               toolCalls: calls.isEmpty ? nil : calls),
                logprobs: wantsLogprobs ? ChatLogprobs(content: formatter.chatEntries(choice.logprobEntries)) : nil,
                finishReason: choice.finishReason.map { Self.finishReason($0, calls: calls.count) },
                stopReason: choice.stopReason)
            if extras.returnTokenIDs { wire.tokenIDs = choice.tokenIDs }
            return wire
        }
        var response = ChatCompletionResponse(id: id, created: created, model: model, choices: wire,
                                              usage: ChoiceState.usage(choices, promptLengths: promptLengths, n: n))
        if extras.promptLogprobs { response.promptLogprobs = choices.first?.promptLogprobs.map(formatter.promptLogprobs) }
        if extras.returnTokenIDs { response.promptTokenIDs = extras.promptTokenIDs.first }
        return response
    }

    private func chunk(_ choices: [ChatCompletionChunk.Choice]) throws -> Data {
        try JSONResponse.data(ChatCompletionChunk(id: id, created: created, model: model, choices: choices, usage: nil))
    }
}
