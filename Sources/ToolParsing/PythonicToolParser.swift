/// Calls as a Python list, as Llama 3.2 (with vLLM's pythonic template) and Llama 4 write them
/// (vLLM's `pythonic` and `llama4_pythonic` parsers):
///
///     [get_weather(city="San Francisco", days=3), get_time(zone='PST', dst=True)]
///     <|python_start|>[get_weather(city="SF")]<|python_end|>
///
/// The list must start the output (after whitespace) or follow `<|python_start|>`; every item is
/// a call with keyword arguments whose values are Python literals, which become JSON (see
/// `PythonLiteral`). A bracketed text that is not such a list is content, and so is the text
/// after the list (`<|python_end|>` dropped). The list is reported once its `]` arrives.
public struct PythonicToolParser: ToolCallParser {
    public static let name = "pythonic"

    private static let pythonStart = Array("<|python_start|>".utf8)
    private static let pythonEnd = Array("<|python_end|>".utf8)
    private static let quotes = [UInt8(ascii: "\""), UInt8(ascii: "'")]

    private enum State {
        /// Nothing but whitespace so far.
        case start
        /// Plain text, in which only `<|python_start|>` starts calls.
        case text
        /// `buffer` starts with `<|python_start|>`.
        case tagged
        /// `buffer[listStart]` is a `[` that may open the calls (after the tag, if any).
        case list(listStart: Int)
        /// After the calls: whitespace and `<|python_end|>` are dropped.
        case afterList
    }

    private var buffer: [UInt8] = []
    private var state = State.start
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
            switch state {
            case .start:
                let first = Markup.skipWhitespace(buffer, from: 0)
                if first == buffer.count, !final { return events }
                if first < buffer.count, buffer[first] == UInt8(ascii: "[") {
                    events += take(first)
                    state = .list(listStart: 0)
                } else {
                    state = .text
                }
            case .text:
                guard writer.content(upTo: [Self.pythonStart], in: &buffer, final: final, events: &events) else {
                    return events
                }
                state = .tagged
            case .tagged:
                let first = Markup.skipWhitespace(buffer, from: Self.pythonStart.count)
                if first == buffer.count, !final { return events }
                if first < buffer.count, buffer[first] == UInt8(ascii: "[") {
                    state = .list(listStart: first)
                } else {
                    events += take(Self.pythonStart.count)
                    state = .text
                }
            case .list(let listStart):
                switch BracketScanner.end(of: buffer, from: listStart, quotes: Self.quotes, tripleQuotes: true) {
                case .incomplete where !final:
                    return events
                case .complete(let end):
                    if let calls = PythonLiteral.calls(in: buffer[listStart..<end]) {
                        for call in calls { events += writer.call(call) }
                        buffer.removeFirst(end)
                        state = .afterList
                    } else {
                        events += notCalls(listStart: listStart)
                    }
                case .incomplete, .invalid:
                    events += notCalls(listStart: listStart)
                }
            case .afterList:
                let first = Markup.skipWhitespace(buffer, from: 0)
                switch Markup.match(Self.pythonEnd, in: buffer, at: first) {
                case .partial where !final:
                    return events
                case .full:
                    buffer.removeFirst(first + Self.pythonEnd.count)
                case .partial, .none:
                    break
                }
                state = .text
            }
        }
        return events
    }

    /// The bracket did not open calls: the tag (if any) is content and the rest is text.
    private mutating func notCalls(listStart: Int) -> [ToolStreamEvent] {
        state = .text
        return listStart > 0 ? take(Self.pythonStart.count) : []
    }

    /// Reports `buffer[..<count]` as content and drops it.
    private mutating func take(_ count: Int) -> [ToolStreamEvent] {
        defer { buffer.removeFirst(count) }
        return writer.content(buffer[..<count])
    }
}
