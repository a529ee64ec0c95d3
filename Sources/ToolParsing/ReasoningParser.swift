/// A response split into its reasoning (OpenAI's `reasoning_content`) and its content.
public struct ReasoningSplit: Sendable, Equatable {
    /// The model's reasoning; nil when there is none.
    public var reasoning: String?
    /// The rest of the output; nil when there is none.
    public var content: String?

    /// A split with `reasoning` and `content` (nil for none).
    public init(reasoning: String?, content: String?) {
        self.reasoning = reasoning
        self.content = content
    }

    /// The split that a stream of events adds up to.
    public init(events: [ReasoningStreamEvent]) {
        var reasoning = ""
        var content = ""
        for event in events {
            switch event {
            case .reasoning(let text): reasoning += text
            case .content(let text): content += text
            }
        }
        self.init(reasoning: reasoning.isEmpty ? nil : reasoning, content: content.isEmpty ? nil : content)
    }
}

/// What a streaming reasoning parser reports as text arrives.
public enum ReasoningStreamEvent: Sendable, Equatable {
    /// Text for `reasoning_content`.
    case reasoning(String)
    /// Text for `content` (to be given to the tool-call parser, if there is one).
    case content(String)
}

/// Separates a model's reasoning from its answer, in one model family's format.
///
/// One instance serves one response. A server runs it first and gives the `.content` it
/// reports to the tool-call parser. Streaming holds back text that could be the start of a
/// marker, and feeding a text in any chunking and then calling `finish()` yields events that
/// add up (`ReasoningSplit(events:)`) to exactly `split(text)`.
public protocol ReasoningParser: Sendable {
    /// The name that `--reasoning-parser` takes, as in vLLM (`deepseek_r1`, `qwen3`, ...).
    static var name: String { get }
    /// A parser at the start of a response whose prompt says nothing about reasoning.
    init()
    /// A parser for the output that follows `prompt` (the rendered prompt, or its tail), for
    /// templates that open or close the reasoning block in the prompt themselves.
    init(prompt: String)
    /// The reasoning and content of a complete output.
    func split(_ text: String) -> ReasoningSplit
    /// Takes the next piece of generated text and returns what is now decided.
    mutating func feed(_ delta: String) -> [ReasoningStreamEvent]
    /// The output has ended: returns what was held back.
    mutating func finish() -> [ReasoningStreamEvent]
}

extension ReasoningParser {
    /// Ignores the prompt: the format does not depend on it.
    public init(prompt: String) {
        self.init()
    }

    /// Splits `text` by streaming it through a copy of this parser, as it stands, so that whole
    /// and streamed results agree by construction.
    public func split(_ text: String) -> ReasoningSplit {
        var parser = self
        return ReasoningSplit(events: parser.feed(text) + parser.finish())
    }
}
