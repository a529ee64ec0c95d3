import Testing
import ToolParsing

/// Outputs in the format Llama 3.1-3.3's templates ask for (`{"name": ..., "parameters": ...}`).
struct Llama3JSONToolParserTests {
    private let call = StreamingHarness.call
    private let markup = ["<|python_tag|>", "<|python"]

    @Test func singleCall() {
        StreamingHarness.check(
            Llama3JSONToolParser.self, #"{"name": "get_weather", "parameters": {"city": "San Francisco", "days": 3}}"#,
            content: nil, calls: [call("get_weather", #"{"city": "San Francisco", "days": 3}"#)])
    }

    @Test func pythonTagAndParallelCalls() {
        let text = #"<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {}}"#
        StreamingHarness.check(
            Llama3JSONToolParser.self, text, content: nil,
            calls: [call("get_weather", #"{"city": "Paris"}"#), call("get_time", "{}")], forbidden: markup)
        StreamingHarness.check(
            Llama3JSONToolParser.self, "\n" + #"{"name": "a", "arguments": {"x": [1, {"y": "z"}]}}"# + "\n" + #"{"name": "b", "parameters": {}}"#,
            content: nil, calls: [call("a", #"{"x": [1, {"y": "z"}]}"#), call("b", "{}")])
    }

    @Test func contentBeforePythonTag() {
        StreamingHarness.check(
            Llama3JSONToolParser.self,
            #"Let me check that. <|python_tag|>{"name": "lookup", "parameters": {"q": "naïve \"quote\" 日本"}}"#,
            content: "Let me check that.", calls: [call("lookup", #"{"q": "naïve \"quote\" 日本"}"#)], forbidden: markup)
    }

    @Test func textAfterCallsIsContent() {
        StreamingHarness.check(
            Llama3JSONToolParser.self, #"{"name": "f", "parameters": {"a": "}"}}"# + "\n\nThat is all.",
            content: "That is all.", calls: [call("f", #"{"a": "}"}"#)])
    }

    @Test func noCalls() {
        StreamingHarness.check(
            Llama3JSONToolParser.self, "The answer is {x} = 4.", content: "The answer is {x} = 4.", calls: [])
        StreamingHarness.check(
            Llama3JSONToolParser.self, #"{"answer": 42}"#, content: #"{"answer": 42}"#, calls: [])
    }

    @Test func malformedCallsAreContent() {
        let truncated = #"{"name": "f", "parameters": {"city": "Par"#
        StreamingHarness.check(Llama3JSONToolParser.self, truncated, content: truncated, calls: [])
        let broken = #"{"name": "f", "parameters": {"city": Paris}}"#
        StreamingHarness.check(Llama3JSONToolParser.self, broken, content: broken, calls: [])
        let builtin = #"<|python_tag|>brave_search.call(query="weather")"#
        StreamingHarness.check(Llama3JSONToolParser.self, builtin, content: builtin, calls: [])
    }
}
