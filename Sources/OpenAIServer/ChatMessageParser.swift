import Foundation
import OrderedJSON
import ToolParsing

/// Turns one choice's generated text into what a chat message carries: `reasoning_content`
/// (with a reasoning parser), `content`, and `tool_calls`, whole or as it streams.
///
/// Reasoning comes first; the content it leaves goes to the tool handling the request asks for:
/// - auto: the tool-call parser of the model's format finds calls in the text;
/// - required / a named function: the output was constrained to JSON (a list of calls, or the
///   function's arguments), so it is held until the end and read as one JSON value; cut short
///   by max_tokens, it is returned as content with no call.
struct ChatMessageParser: Sendable {
    enum ToolMode: Sendable {
        case none
        case auto(any ToolCallParser)
        case required
        case named(String)
    }

    /// What the message gains.
    enum Piece: Equatable {
        case reasoning(String)
        case content(String)
        /// A call begins; `id` is the `tool_calls[i].id` clients send back with the result.
        case callStart(index: Int, id: String, name: String)
        case arguments(index: Int, fragment: String)
    }

    private var reasoning: (any ReasoningParser)?
    private var tools: ToolMode
    private var held = ""
    private(set) var callCount = 0

    init(reasoning: (any ReasoningParser)?, tools: ToolMode) {
        self.reasoning = reasoning
        self.tools = tools
    }

    /// The pieces `delta` decides.
    mutating func feed(_ delta: String) -> [Piece] {
        guard !delta.isEmpty else { return [] }
        guard var parser = reasoning else { return contentPieces(delta) }
        let events = parser.feed(delta)
        reasoning = parser
        return pieces(events)
    }

    /// The pieces held back, once the output has ended (`truncated`: by max_tokens).
    mutating func finish(truncated: Bool) -> [Piece] {
        var result: [Piece] = []
        if var parser = reasoning {
            result += pieces(parser.finish())
            reasoning = parser
        }
        switch tools {
        case .none:
            break
        case .auto(var parser):
            let events = parser.finish()
            tools = .auto(parser)
            result += pieces(events)
        case .required, .named:
            result += structuredCalls(truncated: truncated)
        }
        return result
    }

    private mutating func pieces(_ events: [ReasoningStreamEvent]) -> [Piece] {
        var result: [Piece] = []
        for event in events {
            switch event {
            case .reasoning(let text): result.append(.reasoning(text))
            case .content(let text): result += contentPieces(text)
            }
        }
        return result
    }

    private mutating func pieces(_ events: [ToolStreamEvent]) -> [Piece] {
        events.map { piece($0) }
    }

    private mutating func contentPieces(_ text: String) -> [Piece] {
        switch tools {
        case .none:
            return [.content(text)]
        case .auto(var parser):
            let events = parser.feed(text)
            tools = .auto(parser)
            return pieces(events)
        case .required, .named:
            held += text
            return []
        }
    }

    private mutating func piece(_ event: ToolStreamEvent) -> Piece {
        switch event {
        case .content(let text):
            return .content(text)
        case .toolCallStart(let index, let name):
            callCount = max(callCount, index + 1)
            return .callStart(index: index, id: Self.makeCallID(), name: name)
        case .arguments(let index, let fragment):
            return .arguments(index: index, fragment: fragment)
        }
    }

    /// The calls of a constrained output: `[{"name": ..., "parameters": {...}}, ...]` for
    /// `required`, the arguments object for a named function.
    private mutating func structuredCalls(truncated: Bool) -> [Piece] {
        defer { held = "" }
        guard !truncated, let value = try? JSON(parsing: held) else { return held.isEmpty ? [] : [.content(held)] }
        var calls: [(String, JSON)] = []
        switch tools {
        case .named(let name):
            calls = [(name, value)]
        default:
            for call in value.array ?? [] {
                guard let name = call["name"]?.string else { continue }
                calls.append((name, call["parameters"] ?? .object(JSONObject())))
            }
        }
        guard !calls.isEmpty else { return [.content(held)] }
        callCount = calls.count
        return calls.enumerated().flatMap { index, call in
            [.callStart(index: index, id: Self.makeCallID(), name: call.0), .arguments(index: index, fragment: call.1.serialized())]
        }
    }

    /// vLLM's form of a call id: `chatcmpl-tool-` and 32 hex digits.
    static func makeCallID() -> String {
        "chatcmpl-tool-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// A whole message put together from a parser's pieces.
struct ParsedChatMessage {
    var reasoning = ""
    var content = ""
    var calls: [(id: String, name: String, arguments: String)] = []

    init(_ pieces: [ChatMessageParser.Piece]) {
        for piece in pieces {
            switch piece {
            case .reasoning(let text): reasoning += text
            case .content(let text): content += text
            case .callStart(_, let id, let name): calls.append((id, name, ""))
            case .arguments(let index, let fragment): if calls.indices.contains(index) { calls[index].arguments += fragment }
            }
        }
    }
}
