import Testing
import ToolParsing

/// Outputs in DeepSeek's tool-call token format, as the R1 distill template renders calls.
struct DeepSeekV3ToolParserTests {
    private let call = StreamingHarness.call
    private let markup = ["<｜tool", "▁", "｜>"]

    private func block(_ calls: [(String, String)]) -> String {
        let rendered = calls.map { name, arguments in
            "<｜tool▁call▁begin｜>function<｜tool▁sep｜>\(name)\n```json\n\(arguments)\n```<｜tool▁call▁end｜>"
        }
        return "<｜tool▁calls▁begin｜>" + rendered.joined(separator: "\n") + "<｜tool▁calls▁end｜>"
    }

    @Test func singleAndParallelCalls() {
        StreamingHarness.check(
            DeepSeekV3ToolParser.self, block([("get_weather", #"{"city": "Paris"}"#)]),
            content: nil, calls: [call("get_weather", #"{"city": "Paris"}"#)], forbidden: markup)
        StreamingHarness.check(
            DeepSeekV3ToolParser.self,
            "Checking both.\n\n" + block([("get_weather", #"{"city": "北京", "q": "a\"b\\c"}"#), ("get_time", "{}")]),
            content: "Checking both.",
            calls: [call("get_weather", #"{"city": "北京", "q": "a\"b\\c"}"#), call("get_time", "{}")], forbidden: markup)
    }

    @Test func nestedArgumentsAndTextAfter() {
        let arguments = #"{"items": [{"id": 1, "tags": ["x", "```"]}], "nested": {"deep": {"deeper": null}}}"#
        StreamingHarness.check(
            DeepSeekV3ToolParser.self, block([("update", arguments)]) + "\nDone.",
            content: "Done.", calls: [call("update", arguments)], forbidden: markup)
    }

    @Test func argumentsAsQuotedJSON() {
        // The R1 distills' template renders `arguments | tojson`, a JSON string holding the object.
        StreamingHarness.check(
            DeepSeekV3ToolParser.self, block([("f", #""{\"x\": [1, 2]}""#)]),
            content: nil, calls: [call("f", #"{"x": [1, 2]}"#)])
    }

    @Test func version31Form() {
        StreamingHarness.check(
            DeepSeekV3ToolParser.self,
            #"OK<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>"#,
            content: "OK", calls: [call("get_weather", #"{"city": "Paris"}"#)], forbidden: markup)
    }

    @Test func noCalls() {
        StreamingHarness.check(
            DeepSeekV3ToolParser.self, "A <｜ b ｜> c ```json {}```", content: "A <｜ b ｜> c ```json {}```", calls: [])
    }

    @Test func malformedCallsAreContent() {
        let broken = "<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"x\": }\n```<｜tool▁call▁end｜>"
        StreamingHarness.check(
            DeepSeekV3ToolParser.self, "<｜tool▁calls▁begin｜>" + broken + "<｜tool▁calls▁end｜>", content: broken, calls: [])
        let unterminated = "<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"x\": 1}\n```"
        StreamingHarness.check(
            DeepSeekV3ToolParser.self, "<｜tool▁calls▁begin｜>" + unterminated, content: unterminated, calls: [])
    }
}
