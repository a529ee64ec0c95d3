/// One function call that a model wrote, as OpenAI's `tool_calls[i].function` carries it.
public struct ParsedToolCall: Sendable, Equatable {
    /// The function's name, e.g. `get_weather`.
    public var name: String
    /// The arguments object as compact JSON text in the model's key order, e.g. `{"city":"SF"}`.
    public var arguments: String

    /// A call of `name` with `arguments` (compact JSON object text).
    public init(name: String, arguments: String) {
        self.name = name
        self.arguments = arguments
    }
}

/// A whole response split into its text and its calls.
public struct ToolParseResult: Sendable, Equatable {
    /// The text outside the calls; nil when there is none.
    public var content: String?
    /// The calls in the order the model wrote them.
    public var toolCalls: [ParsedToolCall]

    /// A result with `content` (nil for none) and `toolCalls`.
    public init(content: String?, toolCalls: [ParsedToolCall]) {
        self.content = content
        self.toolCalls = toolCalls
    }

    /// The result that a stream of events adds up to: the `.content` texts concatenated, and
    /// one call per `.toolCallStart` with its `.arguments` fragments concatenated.
    public init(events: [ToolStreamEvent]) {
        var text = ""
        var calls: [ParsedToolCall] = []
        for event in events {
            switch event {
            case .content(let piece):
                text += piece
            case .toolCallStart(let index, let name):
                if index == calls.count { calls.append(ParsedToolCall(name: name, arguments: "")) }
            case .arguments(let index, let fragment):
                if calls.indices.contains(index) { calls[index].arguments += fragment }
            }
        }
        self.init(content: text.isEmpty ? nil : text, toolCalls: calls)
    }
}

/// What a streaming parser reports as text arrives.
public enum ToolStreamEvent: Sendable, Equatable {
    /// Text for the response's `content`.
    case content(String)
    /// A call begins: `index` counts calls from 0 within the response; comes once per call,
    /// before that call's arguments.
    case toolCallStart(index: Int, name: String)
    /// A piece of call `index`'s arguments; the pieces concatenated are its compact JSON text.
    case arguments(index: Int, fragment: String)
}

/// Turns a model's text into OpenAI `tool_calls` and `content`, in one model family's format.
///
/// One instance serves one response (one choice); it keeps the state that streaming needs.
/// Streaming never lets markup reach `.content`: text that could be the start of a marker is
/// held back until it is decided. A call is reported only once it is complete and valid, as a
/// `.toolCallStart` followed by one `.arguments` event that carries the whole compact JSON,
/// so that a malformed or unterminated call can still become plain content. Whitespace
/// between content and a call (before its opening marker or after its end) is dropped; with
/// no calls the content is the text unchanged.
///
/// Feeding a text in any chunking and then calling `finish()` yields events that add up
/// (`ToolParseResult(events:)`) to exactly `parse(text)`.
public protocol ToolCallParser: Sendable {
    /// The name that `--tool-call-parser` takes, as in vLLM (`hermes`, `mistral`, ...).
    static var name: String { get }
    /// A parser at the start of a response.
    init()
    /// The calls and content of a complete output.
    func parse(_ text: String) -> ToolParseResult
    /// Takes the next piece of generated text and returns what is now decided.
    mutating func feed(_ delta: String) -> [ToolStreamEvent]
    /// The output has ended: returns what was held back (an unfinished call becomes content).
    mutating func finish() -> [ToolStreamEvent]
}

extension ToolCallParser {
    /// Parses `text` by streaming it through a fresh parser, so that whole and streamed
    /// results agree by construction.
    public func parse(_ text: String) -> ToolParseResult {
        var parser = Self()
        return ToolParseResult(events: parser.feed(text) + parser.finish())
    }
}
