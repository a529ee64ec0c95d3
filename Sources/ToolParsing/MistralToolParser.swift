import OrderedJSON

/// Calls after Mistral's `[TOOL_CALLS]` token (vLLM's `mistral` parser), in both of the forms
/// that Mistral's tokenizers use:
///
///     [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": ...}]
///     [TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{}
///
/// The first (tokenizer v2/v3: Mistral 7B v0.3, Mixtral 8x22B, Nemo; see Nemo's chat template)
/// is a JSON array of objects with `name` and `arguments` (a lone object is taken too; an
/// `id` member is ignored). The second (tokenizer v11 and later: Mistral Small 3.2, Magistral,
/// Devstral) is the name, `[ARGS]` and the arguments object, optionally with `[CALL_ID]id`
/// before `[ARGS]`. Text before, between and after is content; a `[TOOL_CALLS]` that is not
/// followed by calls of either form is content verbatim. The markers are special tokens and
/// must be kept in the text given to the parser (detokenize without skipping special tokens).
public struct MistralToolParser: ToolCallParser {
    public static let name = "mistral"

    private static let toolCalls = Array("[TOOL_CALLS]".utf8)
    private static let args = Array("[ARGS]".utf8)
    private static let callID = Array("[CALL_ID]".utf8)
    /// Longest function name the `name[ARGS]` form accepts before giving up.
    private static let maxNameLength = 256

    /// `buffer` holds plain text, or starts with `[TOOL_CALLS]` while `inCalls`.
    private var buffer: [UInt8] = []
    private var inCalls = false
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
            if !inCalls {
                guard writer.content(upTo: [Self.toolCalls], in: &buffer, final: final, events: &events) else {
                    return events
                }
                inCalls = true
                continue
            }
            switch readCalls() {
            case .undecided where !final:
                return events
            case .calls(let calls, let end):
                for call in calls { events += writer.call(call) }
                buffer.removeFirst(end)
            case .undecided, .notCalls:
                // The marker is content; what follows is read again as text.
                events += writer.content(Self.toolCalls)
                buffer.removeFirst(Self.toolCalls.count)
            }
            inCalls = false
        }
        return events
    }

    /// What the text after `[TOOL_CALLS]` turned out to be.
    private enum Reading {
        /// Calls that end at `end` in `buffer`.
        case calls([ParsedToolCall], end: Int)
        /// Not calls of either form.
        case notCalls
        /// The text so far could still become calls.
        case undecided
    }

    /// The calls after the `[TOOL_CALLS]` at the start of `buffer`.
    private func readCalls() -> Reading {
        let start = Markup.skipWhitespace(buffer, from: Self.toolCalls.count)
        guard start < buffer.count else { return .undecided }
        if buffer[start] == UInt8(ascii: "[") || buffer[start] == UInt8(ascii: "{") {
            return readJSONCalls(from: start)
        }
        return readNamedCall(from: start)
    }

    /// `[{"name": ..., "arguments": ...}, ...]` or one such object.
    private func readJSONCalls(from start: Int) -> Reading {
        switch BracketScanner.end(of: buffer, from: start) {
        case .incomplete:
            return .undecided
        case .invalid:
            return .notCalls
        case .complete(let end):
            guard let value = try? JSON(parsing: Array(buffer[start..<end])) else { return .notCalls }
            let items = value.array ?? [value]
            let calls = items.compactMap(ToolCallJSON.call(from:))
            return calls.isEmpty || calls.count != items.count ? .notCalls : .calls(calls, end: end)
        }
    }

    /// `name[ARGS]{...}` or `name[CALL_ID]id[ARGS]{...}`.
    private func readNamedCall(from start: Int) -> Reading {
        guard let argsMarker = Markup.find(Self.args, in: buffer, from: start) else {
            return buffer.count - start <= Self.maxNameLength + Self.args.count ? .undecided : .notCalls
        }
        guard argsMarker - start <= Self.maxNameLength else { return .notCalls }
        var nameEnd = argsMarker
        if let idMarker = Markup.find(Self.callID, in: buffer, from: start), idMarker < argsMarker {
            nameEnd = idMarker
        }
        let name = Markup.text(Markup.trimmed(buffer[start..<nameEnd]))
        guard isFunctionName(name) else { return .notCalls }
        let argsStart = Markup.skipWhitespace(buffer, from: argsMarker + Self.args.count)
        guard argsStart < buffer.count else { return .undecided }
        switch BracketScanner.end(of: buffer, from: argsStart) {
        case .incomplete:
            return .undecided
        case .invalid:
            return .notCalls
        case .complete(let end):
            guard let call = ToolCallJSON.call(name: name, arguments: buffer[argsStart..<end]) else { return .notCalls }
            return .calls([call], end: end)
        }
    }

    /// Letters, digits, `_`, `-` and `.`, as function names in tool schemas are.
    private func isFunctionName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-.".unicodeScalars.contains(scalar)
        }
    }
}
