import Testing
import ToolParsing

/// Outputs in the format of Qwen2.5/Qwen3/Hermes 2 Pro templates (`<tool_call>\n{...}\n</tool_call>`).
struct HermesToolParserTests {
    private let call = StreamingHarness.call
    private let markup = ["<tool_call>", "</tool_call>", "<tool_", "</tool"]

    @Test func singleCall() {
        StreamingHarness.check(
            HermesToolParser.self,
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>",
            content: nil, calls: [call("get_weather", #"{"city": "Paris", "unit": "celsius"}"#)], forbidden: markup)
    }

    @Test func parallelCallsAfterContent() {
        let text = """
            I'll look both up.

            <tool_call>
            {"name": "get_weather", "arguments": {"city": "Paris"}}
            </tool_call>
            <tool_call>
            {"name": "get_time", "arguments": {"zone": "Europe/Paris"}}
            </tool_call>
            """
        StreamingHarness.check(
            HermesToolParser.self, text, content: "I'll look both up.",
            calls: [call("get_weather", #"{"city": "Paris"}"#), call("get_time", #"{"zone": "Europe/Paris"}"#)],
            forbidden: markup)
    }

    @Test func nestedUnicodeAndEscapedArguments() {
        let arguments = #"{"query": "café \"crème\" \\ 東京 🌧", "filters": {"tags": ["a", {"b": [1, 2.5e3, null, true]}]}, "note": "line\nbreak \u00e9"}"#
        StreamingHarness.check(
            HermesToolParser.self, "<tool_call>\n{\"name\": \"search\", \"arguments\": \(arguments)}\n</tool_call>",
            content: nil, calls: [call("search", arguments)], forbidden: markup)
    }

    @Test func argumentsAsQuotedJSONAreUnwrapped() {
        StreamingHarness.check(
            HermesToolParser.self,
            #"<tool_call>{"name": "f", "arguments": "{\"x\": 1}"}</tool_call>"#,
            content: nil, calls: [call("f", #"{"x": 1}"#)])
    }

    @Test func textAfterCallIsContent() {
        StreamingHarness.check(
            HermesToolParser.self,
            "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>\nDone <b>bold</b> <tool",
            content: "Done <b>bold</b> <tool", calls: [call("f", "{}")])
    }

    @Test func noCalls() {
        StreamingHarness.check(
            HermesToolParser.self, "Plain answer with <tags> and a < sign.\n\n", content: "Plain answer with <tags> and a < sign.\n\n",
            calls: [])
        StreamingHarness.check(HermesToolParser.self, "", content: nil, calls: [])
    }

    @Test func malformedCallsAreContent() {
        let broken = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": }\n</tool_call>"
        StreamingHarness.check(HermesToolParser.self, "Hi " + broken, content: "Hi " + broken, calls: [])
        let noName = "<tool_call>{\"arguments\": {}}</tool_call>"
        StreamingHarness.check(HermesToolParser.self, noName, content: noName, calls: [])
        let unterminated = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n"
        StreamingHarness.check(HermesToolParser.self, unterminated, content: unterminated, calls: [])
        let good = "<tool_call>{\"name\": \"g\", \"arguments\": {}}</tool_call>"
        StreamingHarness.check(
            HermesToolParser.self, noName + good, content: noName, calls: [call("g", "{}")])
    }
}
