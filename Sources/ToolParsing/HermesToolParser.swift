/// Hermes-style calls, as Qwen2.5, Qwen3, SmolLM3 and NousResearch Hermes 2 Pro / Hermes 3 write
/// them (vLLM's `hermes` parser; the format is in those models' chat templates):
///
///     Let me check.
///     <tool_call>
///     {"name": "get_weather", "arguments": {"city": "Paris"}}
///     </tool_call>
///     <tool_call>
///     {"name": "get_time", "arguments": {"zone": "CET"}}
///     </tool_call>
///
/// Each call is one JSON object between `<tool_call>` and `</tool_call>`, with a string `name`
/// and an `arguments` object (a string holding the object's JSON, or `parameters`, is taken
/// too). Text outside the tags is content. A call is reported when its `</tool_call>` arrives;
/// one whose JSON is not such an object, or that the output ends inside, is content verbatim.
public struct HermesToolParser: ToolCallParser {
    public static let name = "hermes"

    private static let open = Array("<tool_call>".utf8)
    private static let close = Array("</tool_call>".utf8)

    private var buffer: [UInt8] = []
    private var inCall = false
    private var writer = ToolStreamWriter()

    public init() {}

    public mutating func feed(_ delta: String) -> [ToolStreamEvent] {
        buffer += delta.utf8
        return drain(final: false)
    }

    public mutating func finish() -> [ToolStreamEvent] {
        drain(final: true) + writer.finish()
    }

    /// Consumes what is decided; `buffer` starts at `<tool_call>` while `inCall`.
    private mutating func drain(final: Bool) -> [ToolStreamEvent] {
        var events: [ToolStreamEvent] = []
        while !buffer.isEmpty {
            if !inCall {
                guard writer.content(upTo: [Self.open], in: &buffer, final: final, events: &events) else { return events }
                inCall = true
            } else {
                guard let close = Markup.find(Self.close, in: buffer, from: Self.open.count) else {
                    if final {
                        events += writer.content(buffer)
                        buffer = []
                    }
                    return events
                }
                let end = close + Self.close.count
                if let call = ToolCallJSON.call(fromObject: Markup.trimmed(buffer[Self.open.count..<close])) {
                    events += writer.call(call)
                } else {
                    events += writer.content(buffer[..<end])
                }
                buffer.removeFirst(end)
                inCall = false
            }
        }
        return events
    }
}
