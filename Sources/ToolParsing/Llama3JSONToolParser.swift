/// JSON calls as Llama 3.1, 3.2 and 3.3 write them with their own chat templates (vLLM's
/// `llama3_json` parser; the template asks for `{"name": function name, "parameters":
/// dictionary of argument name and its value}`):
///
///     <|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {}}
///
/// A call is a JSON object with a string `name` and a `parameters` (or `arguments`) object.
/// Calls start the output (after optional whitespace), or follow `<|python_tag|>` anywhere;
/// several are separated by `;` or whitespace. Text after the last call is content, and so is
/// an object that is not a call. The `<|python_tag|>` special token must be kept in the text
/// given to the parser (detokenize without skipping special tokens) where the model emits it.
/// Built-in tool calls (`<|python_tag|>brave_search.call(...)`) are not JSON and stay content.
/// While the output starts with `{`, nothing is reported until that object is complete.
public struct Llama3JSONToolParser: ToolCallParser {
    public static let name = "llama3_json"

    private static let pythonTag = Array("<|python_tag|>".utf8)
    private static let openBrace = UInt8(ascii: "{")
    private static let semicolon = UInt8(ascii: ";")

    private enum State {
        /// Nothing but whitespace so far: a `{` here starts a call.
        case start
        /// Plain text, in which only `<|python_tag|>` starts calls.
        case text
        /// After `<|python_tag|>` (kept in `buffer` until a call follows) or a call: a `{`
        /// after whitespace or `;` is the next call.
        case expectingCall
        /// `buffer` starts with a `{` that may open a call.
        case call
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
                if first < buffer.count, buffer[first] == Self.openBrace {
                    events += take(first)
                    state = .call
                } else {
                    state = .text
                }
            case .text:
                guard writer.content(upTo: [Self.pythonTag], in: &buffer, final: final, events: &events) else {
                    return events
                }
                state = .expectingCall
            case .expectingCall:
                guard let next = nextCallStart(final: final) else { return events }
                if next < buffer.count, buffer[next] == Self.openBrace {
                    buffer.removeFirst(next)
                    state = .call
                } else if Markup.match(Self.pythonTag, in: buffer, at: 0) == .full {
                    events += take(Self.pythonTag.count)
                    state = .text
                } else {
                    state = .text
                }
            case .call:
                switch BracketScanner.end(of: buffer, from: 0) {
                case .complete(let end):
                    if let call = ToolCallJSON.call(fromObject: buffer[..<end]) {
                        events += writer.call(call)
                        buffer.removeFirst(end)
                        state = .expectingCall
                    } else {
                        events += take(end)
                        state = .text
                    }
                case .incomplete where !final:
                    return events
                case .incomplete, .invalid:
                    state = .text
                }
            }
        }
        return events
    }

    /// Where the next call's `{` would be: after an optional `<|python_tag|>`, whitespace and
    /// one `;`. Nil while the text so far cannot tell.
    private func nextCallStart(final: Bool) -> Int? {
        var offset = 0
        if Markup.match(Self.pythonTag, in: buffer, at: 0) == .full { offset = Self.pythonTag.count }
        offset = Markup.skipWhitespace(buffer, from: offset)
        if offset < buffer.count, buffer[offset] == Self.semicolon {
            offset = Markup.skipWhitespace(buffer, from: offset + 1)
        }
        if offset == buffer.count, !final { return nil }
        return offset
    }

    /// Reports `buffer[..<count]` as content and drops it.
    private mutating func take(_ count: Int) -> [ToolStreamEvent] {
        defer { buffer.removeFirst(count) }
        return writer.content(buffer[..<count])
    }
}
