/// DeepSeek's tool-call tokens, as DeepSeek-V3, V3-0324, R1-0528 and the R1 distills write them
/// (vLLM's `deepseek_v3` parser; the format is in their chat templates), and the shorter form of
/// DeepSeek-V3.1 (vLLM's `deepseek_v31`):
///
///     <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather
///     ```json
///     {"city": "Paris"}
///     ```<｜tool▁call▁end｜>
///     <｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time
///     ```json
///     {}
///     ```<｜tool▁call▁end｜><｜tool▁calls▁end｜>
///
///     <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>
///
/// Text before `<｜tool▁calls▁begin｜>` and after `<｜tool▁calls▁end｜>` is content. Each call is
/// reported when its `<｜tool▁call▁end｜>` arrives; a call whose arguments are not a JSON object
/// (or a string holding one, as the R1 distills' template writes them) is content verbatim,
/// and so is one that the output ends inside.
public struct DeepSeekV3ToolParser: ToolCallParser {
    public static let name = "deepseek_v3"

    private static let callsBegin = Array("<｜tool▁calls▁begin｜>".utf8)
    private static let callsEnd = Array("<｜tool▁calls▁end｜>".utf8)
    private static let callBegin = Array("<｜tool▁call▁begin｜>".utf8)
    private static let callEnd = Array("<｜tool▁call▁end｜>".utf8)
    private static let separator = Array("<｜tool▁sep｜>".utf8)
    private static let fence = Array("```".utf8)

    private var buffer: [UInt8] = []
    /// Inside `<｜tool▁calls▁begin｜>` … `<｜tool▁calls▁end｜>`.
    private var inBlock = false
    private var writer = ToolStreamWriter()

    public init() {}

    public mutating func feed(_ delta: String) -> [ToolStreamEvent] {
        buffer += delta.utf8
        return drain(final: false)
    }

    public mutating func finish() -> [ToolStreamEvent] {
        drain(final: true) + writer.finish()
    }

    private mutating func drain(final: Bool) -> [ToolStreamEvent] {
        var events: [ToolStreamEvent] = []
        while !buffer.isEmpty {
            guard inBlock else {
                guard writer.content(upTo: [Self.callsBegin], in: &buffer, final: final, events: &events) else {
                    return events
                }
                buffer.removeFirst(Self.callsBegin.count)
                inBlock = true
                continue
            }
            let first = Markup.skipWhitespace(buffer, from: 0)
            let atCall = Markup.match(Self.callBegin, in: buffer, at: first)
            let atEnd = Markup.match(Self.callsEnd, in: buffer, at: first)
            if atEnd == .full {
                buffer.removeFirst(first + Self.callsEnd.count)
                inBlock = false
            } else if atCall == .full {
                let bodyStart = first + Self.callBegin.count
                guard let close = Markup.find(Self.callEnd, in: buffer, from: bodyStart) else {
                    if !final { return events }
                    events += writer.content(buffer[first...])
                    buffer = []
                    return events
                }
                let end = close + Self.callEnd.count
                if let call = Self.call(from: buffer[bodyStart..<close]) {
                    events += writer.call(call)
                } else {
                    events += writer.content(buffer[first..<end])
                }
                buffer.removeFirst(end)
            } else if (atCall == .partial || atEnd == .partial), !final {
                return events
            } else {
                inBlock = false
            }
        }
        return events
    }

    /// The call in the text between `<｜tool▁call▁begin｜>` and `<｜tool▁call▁end｜>`:
    /// `TYPE<｜tool▁sep｜>NAME\n```json\nARGS\n```` or `NAME<｜tool▁sep｜>ARGS`.
    private static func call(from body: ArraySlice<UInt8>) -> ParsedToolCall? {
        let bytes = Array(body)
        guard let sep = Markup.find(separator, in: bytes, from: 0) else { return nil }
        let afterSep = Markup.trimmed(bytes[(sep + separator.count)...])
        if afterSep.first == UInt8(ascii: "{") {
            return ToolCallJSON.call(name: Markup.text(Markup.trimmed(bytes[..<sep])), arguments: afterSep)
        }
        guard let newline = afterSep.firstIndex(of: 0x0A) else { return nil }
        let name = Markup.text(Markup.trimmed(afterSep[..<newline]))
        var arguments = Markup.trimmed(afterSep[newline...])
        if arguments.starts(with: fence) {
            arguments = arguments.dropFirst(fence.count)
            guard let lineEnd = arguments.firstIndex(of: 0x0A) else { return nil }
            arguments = arguments[lineEnd...]
            guard arguments.count >= fence.count, arguments.suffix(fence.count).elementsEqual(fence) else { return nil }
            arguments = Markup.trimmed(arguments.dropLast(fence.count))
        }
        return ToolCallJSON.call(name: name, arguments: arguments)
    }
}
