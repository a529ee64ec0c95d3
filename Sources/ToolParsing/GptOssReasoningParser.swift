/// gpt-oss's reasoning in OpenAI's harmony format (vLLM's `openai_gptoss` parser): the bodies of
/// `analysis` messages are reasoning.
///
///     <|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>final<|message|>Sunny.<|return|>
///
/// The bodies of `final` messages, of `commentary` messages to the user, and text outside
/// messages are content, without their markup. A message to `functions.NAME` (a function call)
/// is passed on as content verbatim, markup included, for `OpenAIToolParser` to read; other
/// messages to built-in tools (`browser.*`, `python`) are reasoning when on the `analysis`
/// channel and are dropped otherwise.
public struct GptOssReasoningParser: ReasoningParser {
    public static let name = "openai_gptoss"

    private enum Message { case reasoning, content, verbatim, dropped }

    private var scanner = HarmonyScanner()
    private var message = Message.content

    public init() {}

    public mutating func feed(_ delta: String) -> [ReasoningStreamEvent] {
        handle(scanner.feed(delta.utf8, final: false))
    }

    public mutating func finish() -> [ReasoningStreamEvent] {
        handle(scanner.feed([], final: true))
    }

    private mutating func handle(_ pieces: [HarmonyScanner.Event]) -> [ReasoningStreamEvent] {
        var events: [ReasoningStreamEvent] = []
        for piece in pieces {
            switch (piece, message) {
            case (.text(let bytes), _):
                events.append(.content(Markup.text(bytes)))
            case (.header(let header), _):
                message = Self.message(for: header)
                if case .verbatim = message { events.append(.content(Markup.text(header.raw))) }
            case (.body(let bytes), .reasoning):
                events.append(.reasoning(Markup.text(bytes)))
            case (.body(let bytes), .content), (.body(let bytes), .verbatim):
                events.append(.content(Markup.text(bytes)))
            case (.body, .dropped):
                break
            case (.end(let terminator), .verbatim):
                if !terminator.isEmpty { events.append(.content(Markup.text(terminator))) }
                message = .content
            case (.end, _):
                message = .content
            }
        }
        return events
    }

    private static func message(for header: HarmonyScanner.Header) -> Message {
        if header.recipient?.hasPrefix("functions.") == true { return .verbatim }
        if header.channel == "analysis" { return .reasoning }
        return header.recipient == nil ? .content : .dropped
    }
}
