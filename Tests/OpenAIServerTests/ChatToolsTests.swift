import ChatTemplates
import Foundation
import OrderedJSON
import StructuredOutputs
import Testing
import ToolParsing

@testable import OpenAIServer

/// The tools of a chat request: what each tool_choice constrains and how the output is read.
struct ChatToolsTests {
    static let tools = #"""
    {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}}, "required": ["city"]}}},
               {"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}}}]
    """#

    static func parse(_ extra: String) throws -> ChatTools? {
        try ChatTools.parse(try JSON(parsing: tools + extra + "}"))
    }

    @Test func choicesAndTheirConstraints() throws {
        #expect(try Self.parse("")?.choice == .auto)
        #expect(try Self.parse(#", "tool_choice": "none""#)?.templateValue == nil)
        let named = try #require(try Self.parse(#", "tool_choice": {"type": "function", "function": {"name": "add"}}"#))
        #expect(named.choice == .named("add"))
        guard case .jsonSchema(let schema, _)? = named.constraint else { Issue.record("no schema"); return }
        #expect(schema["required"]?.array == [.string("a"), .string("b")])
        let required = try #require(try Self.parse(#", "tool_choice": "required", "parallel_tool_calls": false"#))
        guard case .jsonSchema(let list, _)? = required.constraint else { Issue.record("no schema"); return }
        #expect(list["maxItems"]?.number?.int64 == 1)
        #expect(list["items"]?["anyOf"]?.array?.count == 2)
        // The constraint compiles, and what it allows is a list of calls.
        let vocabulary = TokenVocabulary(tokenBytes: (0..<128).map { [UInt8($0)] } + [nil], eosTokenIDs: [128])
        let matcher = GrammarMatcher(try GrammarCompiler(vocabulary: vocabulary).compile(required.constraint!))
        #expect(matcher.accepts(bytes: Array(#"[{"name": "add", "parameters": {"a": 1, "b": 2}}]"#.utf8)))
        #expect(!matcher.accepts(bytes: Array(#"[{"name": "mul", "parameters": {"a": 1, "b": 2}}]"#.utf8)))
    }

    @Test func inconsistentRequestsAre400s() throws {
        for (body, param) in [
            (#"{"tool_choice": "required"}"#, "tool_choice"),
            (#"{"tool_choice": {"type": "function", "function": {"name": "x"}}}"#, "tool_choice"),
            (#"{"tools": [], "tool_choice": "auto"}"#, "tool_choice"),
            (#"{"tools": [{"type": "function"}]}"#, "tools"),
            (#"{"tools": "x"}"#, "tools"),
        ] {
            do {
                _ = try ChatTools.parse(try JSON(parsing: body))
                Issue.record("\(body) was accepted")
            } catch let error as OpenAIError {
                #expect(error.param == param, "\(body): \(error)")
            }
        }
        do {
            _ = try Self.parse(#", "tool_choice": {"type": "function", "function": {"name": "mul"}}"#)
            Issue.record("an unknown function was accepted")
        } catch let error as OpenAIError {
            #expect(error.message.contains("mul"))
        }
    }

    @Test func assistantToolCallsReachTheTemplateAsObjects() throws {
        let message = try JSON(parsing: #"{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{\"a\": 1}"}}]}"#)
        let extra = try ChatTools.messageExtras(message)
        guard case .array(let calls)? = extra["tool_calls"], case .dictionary(let call) = calls[0],
              case .dictionary(let function)? = call["function"], case .dictionary(let arguments)? = function["arguments"]
        else { Issue.record("\(extra)"); return }
        #expect(arguments["a"] == .int(1))
        let result = try ChatTools.messageExtras(try JSON(parsing: #"{"role": "tool", "tool_call_id": "c1", "content": "3"}"#))
        #expect(result["tool_call_id"] == .string("c1"))
    }

    /// The pieces of `text` fed in chunks of `size` characters, then finished.
    static func streamed(_ make: () -> ChatMessageParser, _ text: String, size: Int, truncated: Bool = false)
        -> ParsedChatMessage
    {
        var parser = make()
        var pieces: [ChatMessageParser.Piece] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            pieces += parser.feed(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return ParsedChatMessage(pieces + parser.finish(truncated: truncated))
    }

    @Test func outputsBecomeCallsWholeOrStreamed() {
        let required = { ChatMessageParser(reasoning: nil, tools: .required) }
        let text = #"[{"name": "add", "parameters": {"a": 1, "b": 2}}, {"name": "get_weather", "parameters": {"city": "Oslo"}}]"#
        for size in [1, 3, 1000] {
            let message = Self.streamed(required, text, size: size)
            #expect(message.calls.map(\.name) == ["add", "get_weather"])
            #expect(message.calls.map(\.arguments) == [#"{"a":1,"b":2}"#, #"{"city":"Oslo"}"#])
            #expect(message.content.isEmpty)
        }
        let named = Self.streamed({ ChatMessageParser(reasoning: nil, tools: .named("add")) }, #"{"a": 1, "b": 2}"#, size: 2)
        #expect(named.calls.map(\.name) == ["add"] && named.calls[0].arguments == #"{"a":1,"b":2}"#)
        // Cut by max_tokens: no call, the text is content.
        let cut = Self.streamed(required, String(text.prefix(20)), size: 4, truncated: true)
        #expect(cut.calls.isEmpty && cut.content == String(text.prefix(20)))
        let hermes = { ChatMessageParser(reasoning: nil, tools: .auto(HermesToolParser())) }
        let auto = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"
        for size in [1, 7, 500] {
            let message = Self.streamed(hermes, auto, size: size)
            #expect(message.content == "Let me check.")
            #expect(message.calls.map(\.name) == ["get_weather"] && message.calls[0].arguments == #"{"city":"Oslo"}"#)
        }
        let reasoning = { ChatMessageParser(reasoning: Qwen3ReasoningParser(), tools: .auto(HermesToolParser())) }
        let thought = Self.streamed(reasoning, "<think>Weather needed.</think>\n\n" + auto, size: 3)
        #expect(thought.reasoning == "Weather needed." && thought.calls.count == 1)
    }
}
