import Testing
import ToolParsing

/// gpt-oss outputs in the harmony format, after the prompt's `<|start|>assistant`.
struct OpenAIToolParserTests {
    private let call = StreamingHarness.call
    private let markup = ["<|", "|>", "functions."]

    @Test func callAfterAnalysis() {
        // The engine stops on `<|call|>`, so the output usually ends without it.
        let text = #"<|channel|>analysis<|message|>User wants the weather in Tokyo.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"location":"Tokyo","unit":"c"}"#
        StreamingHarness.check(
            OpenAIToolParser.self, text, content: nil,
            calls: [call("get_weather", #"{"location":"Tokyo","unit":"c"}"#)], forbidden: markup)
        StreamingHarness.check(
            OpenAIToolParser.self, text + "<|call|>", content: nil,
            calls: [call("get_weather", #"{"location":"Tokyo","unit":"c"}"#)], forbidden: markup)
    }

    @Test func recipientBeforeChannelAndPreamble() {
        let text = #"<|channel|>commentary<|message|>Let me check both.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Zürich", "q": "\"x\""}<|call|><|start|>assistant<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>{}<|call|>"#
        StreamingHarness.check(
            OpenAIToolParser.self, text, content: "Let me check both.",
            calls: [call("get_weather", #"{"city": "Zürich", "q": "\"x\""}"#), call("get_time", "{}")], forbidden: markup)
    }

    @Test func finalAnswer() {
        StreamingHarness.check(
            OpenAIToolParser.self,
            "<|channel|>analysis<|message|>Simple.<|end|><|start|>assistant<|channel|>final<|message|>It is **sunny** <3 in 東京.",
            content: "It is **sunny** <3 in 東京.", calls: [], forbidden: ["<|", "|>"])
    }

    @Test func builtinToolsAreDropped() {
        StreamingHarness.check(
            OpenAIToolParser.self,
            #"<|channel|>analysis to=browser.search code<|message|>{"query":"x"}<|call|>"#, content: nil, calls: [])
    }

    @Test func malformedCallIsContent() {
        StreamingHarness.check(
            OpenAIToolParser.self,
            #"<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"location":"Tok"#,
            content: #"{"location":"Tok"#, calls: [])
    }
}
