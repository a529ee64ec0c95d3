/// Function calls in OpenAI's harmony format, as gpt-oss writes them (vLLM's `openai` parser;
/// the format is in gpt-oss's chat template and OpenAI's harmony guide):
///
///     <|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Tokyo"}<|call|>
///
/// A message whose recipient is `functions.NAME` is a call of NAME with its body as the
/// arguments; it is reported when the message ends (at `<|call|>` or the end of the output).
/// The bodies of `final` messages and of `commentary` messages to the user (preambles), and
/// text outside messages, are content. `analysis` messages (the reasoning, which
/// `GptOssReasoningParser` reports) and messages to built-in tools (`browser.*`, `python`) are
/// neither and are dropped. A call whose body is not a JSON object is content.
public struct OpenAIToolParser: ToolCallParser {
    public static let name = "openai"

    private enum Message {
        case content
        case call(name: String, body: [UInt8])
        case dropped
    }

    private var scanner = HarmonyScanner()
    private var message = Message.content
    private var writer = ToolStreamWriter()

    public init() {}

    public mutating func feed(_ delta: String) -> [ToolStreamEvent] {
        handle(scanner.feed(delta.utf8, final: false))
    }

    public mutating func finish() -> [ToolStreamEvent] {
        handle(scanner.feed([], final: true)) + writer.finish()
    }

    private mutating func handle(_ pieces: [HarmonyScanner.Event]) -> [ToolStreamEvent] {
        var events: [ToolStreamEvent] = []
        for piece in pieces {
            switch (piece, message) {
            case (.text(let bytes), _):
                events += writer.content(bytes)
            case (.header(let header), _):
                message = Self.message(for: header)
            case (.body(let bytes), .content):
                events += writer.content(bytes)
            case (.body(let bytes), .call(let name, let body)):
                message = .call(name: name, body: body + bytes)
            case (.body, .dropped):
                break
            case (.end, .call(let name, let body)):
                if let call = ToolCallJSON.call(name: name, arguments: Markup.trimmed(body[...])) {
                    events += writer.call(call)
                } else {
                    events += writer.content(body)
                }
                message = .content
            case (.end, _):
                message = .content
            }
        }
        return events
    }

    private static func message(for header: HarmonyScanner.Header) -> Message {
        if let recipient = header.recipient {
            guard recipient.hasPrefix("functions.") else { return .dropped }
            return .call(name: String(recipient.dropFirst("functions.".count)), body: [])
        }
        return header.channel == "analysis" ? .dropped : .content
    }
}
