import Testing
import ToolParsing

/// Outputs in Mistral's `[TOOL_CALLS]` formats (the JSON array of Nemo's template, and v11+).
struct MistralToolParserTests {
    private let call = StreamingHarness.call
    private let markup = ["[TOOL_CALLS]", "[TOOL", "[ARGS]"]

    @Test func jsonArray() {
        StreamingHarness.check(
            MistralToolParser.self,
            #"[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abcDEF123"}, {"name": "get_time", "arguments": {"zone": "CET"}}]"#,
            content: nil, calls: [call("get_weather", #"{"city": "Paris"}"#), call("get_time", #"{"zone": "CET"}"#)],
            forbidden: markup)
    }

    @Test func contentBeforeCalls() {
        StreamingHarness.check(
            MistralToolParser.self,
            #"Sure [1]. [TOOL_CALLS] [{"name": "search", "arguments": {"q": "ünïcödé \"x\" [y]", "n": {"deep": [[]]}}}]"#,
            content: "Sure [1].", calls: [call("search", #"{"q": "ünïcödé \"x\" [y]", "n": {"deep": [[]]}}"#)],
            forbidden: markup)
    }

    @Test func namedForm() {
        StreamingHarness.check(
            MistralToolParser.self,
            #"[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{}"#,
            content: nil, calls: [call("get_weather", #"{"city": "Paris"}"#), call("get_time", "{}")], forbidden: markup)
        StreamingHarness.check(
            MistralToolParser.self, #"Checking.[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{"city": "東京"}"#,
            content: "Checking.", calls: [call("get_weather", #"{"city": "東京"}"#)], forbidden: markup)
    }

    @Test func noCalls() {
        StreamingHarness.check(
            MistralToolParser.self, "Arrays look like [1, 2] and [TOOL] is fine.",
            content: "Arrays look like [1, 2] and [TOOL] is fine.", calls: [])
    }

    @Test func malformedCallsAreContent() {
        let broken = #"[TOOL_CALLS][{"name": "f", "arguments": {"x": 1}"#
        StreamingHarness.check(MistralToolParser.self, broken, content: broken, calls: [])
        let notCalls = #"[TOOL_CALLS][1, 2]"#
        StreamingHarness.check(MistralToolParser.self, notCalls, content: notCalls, calls: [])
        let badName = #"[TOOL_CALLS]two words[ARGS]{}"#
        StreamingHarness.check(MistralToolParser.self, badName, content: badName, calls: [])
        let noArgs = "[TOOL_CALLS]get_weather"
        StreamingHarness.check(MistralToolParser.self, noArgs, content: noArgs, calls: [])
    }
}
