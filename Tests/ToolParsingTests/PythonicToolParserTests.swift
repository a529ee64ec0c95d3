import Testing
import ToolParsing

/// Outputs as Llama 3.2 / Llama 4 write pythonic calls.
struct PythonicToolParserTests {
    private let call = StreamingHarness.call
    private let markup = ["<|python_start|>", "<|python_end|>"]

    @Test func singleAndParallelCalls() {
        StreamingHarness.check(
            PythonicToolParser.self, #"[get_weather(city="San Francisco", days=3)]"#,
            content: nil, calls: [call("get_weather", #"{"city": "San Francisco", "days": 3}"#)])
        StreamingHarness.check(
            PythonicToolParser.self, "[get_weather(city='SF', metric=True), get_time(), other(x=[1, 2], y=None)]",
            content: nil,
            calls: [
                call("get_weather", #"{"city": "SF", "metric": true}"#), call("get_time", "{}"),
                call("other", #"{"x": [1, 2], "y": null}"#),
            ])
    }

    @Test func pythonLiterals() {
        let text = #"[f(a=-1.5e3, b=.5, c=2., d=1_000, e=(1, 'x'), g={'k': {"n": [True, False]}}, h='it\'s "q" \n\u00e9 日本', i="""tri"ple""")]"#
        StreamingHarness.check(
            PythonicToolParser.self, text, content: nil,
            calls: [call("f", #"{"a": -1.5e3, "b": 0.5, "c": 2.0, "d": 1000, "e": [1, "x"], "g": {"k": {"n": [true, false]}}, "h": "it's \"q\" \né 日本", "i": "tri\"ple"}"#)])
    }

    @Test func llama4Tags() {
        StreamingHarness.check(
            PythonicToolParser.self, "Let me see. <|python_start|>[search(q=\"]) tricky\")]<|python_end|>\nBack soon.",
            content: "Let me see.Back soon.", calls: [call("search", #"{"q": "]) tricky"}"#)], forbidden: markup)
    }

    @Test func noCalls() {
        StreamingHarness.check(
            PythonicToolParser.self, "[1, 2, 3] are numbers.", content: "[1, 2, 3] are numbers.", calls: [])
        StreamingHarness.check(PythonicToolParser.self, "Hello (world) [x]", content: "Hello (world) [x]", calls: [])
    }

    @Test func malformedCallsAreContent() {
        let positional = "[f(1, 2)]"
        StreamingHarness.check(PythonicToolParser.self, positional, content: positional, calls: [])
        let unterminated = "[f(x=1), g(y="
        StreamingHarness.check(PythonicToolParser.self, unterminated, content: unterminated, calls: [])
        let empty = "[]"
        StreamingHarness.check(PythonicToolParser.self, empty, content: empty, calls: [])
    }
}
