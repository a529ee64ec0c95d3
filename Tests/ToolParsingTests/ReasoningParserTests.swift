import Testing
import ToolParsing

struct ReasoningParserTests {
    @Test func deepSeekR1() {
        let parser = { DeepSeekR1ReasoningParser() }
        // R1's template ends the prompt with "<think>\n": only the closing tag is generated.
        StreamingHarness.checkReasoning(
            parser, "Okay, 2 + 2 < 5 and <b> is a tag.\n</think>\n\nThe answer is 4.",
            reasoning: "Okay, 2 + 2 < 5 and <b> is a tag.", content: "The answer is 4.")
        StreamingHarness.checkReasoning(
            parser, "<think>\nThinking… 思考\n</think>\n\n4", reasoning: "Thinking… 思考", content: "4")
        StreamingHarness.checkReasoning(parser, "Still thinking when cut off </thi", reasoning: "Still thinking when cut off </thi", content: nil)
        StreamingHarness.checkReasoning(parser, "<think>\n\n</think>\n\nHi", reasoning: nil, content: "Hi")
        StreamingHarness.checkReasoning(parser, "", reasoning: nil, content: nil)
    }

    @Test func deepSeekR1WithThinkingClosedInPrompt() {
        let prompt = "<｜User｜>Hi<｜Assistant｜><think>\n</think>"
        StreamingHarness.checkReasoning(
            { DeepSeekR1ReasoningParser(prompt: prompt) }, "Hello! </think> is just text.",
            reasoning: nil, content: "Hello! </think> is just text.")
    }

    @Test func qwen3() {
        let parser = { Qwen3ReasoningParser() }
        StreamingHarness.checkReasoning(
            parser, "<think>\nThe user greets me.\n</think>\n\nHello! <tool_call> later",
            reasoning: "The user greets me.", content: "Hello! <tool_call> later")
        // Thinking disabled: the template put "<think>\n\n</think>\n\n" in the prompt.
        StreamingHarness.checkReasoning(parser, "Hello there.", reasoning: nil, content: "Hello there.")
        StreamingHarness.checkReasoning(parser, "  <thinking> is a word", reasoning: nil, content: "  <thinking> is a word")
        StreamingHarness.checkReasoning(parser, "<think>\nCut off", reasoning: "Cut off", content: nil)
        StreamingHarness.checkReasoning(
            { Qwen3ReasoningParser(prompt: "<|im_start|>assistant\n<think>\n") }, "Hmm.\n</think>\n\nYes.",
            reasoning: "Hmm.", content: "Yes.")
    }

    @Test func gptOss() {
        let parser = { GptOssReasoningParser() }
        StreamingHarness.checkReasoning(
            parser,
            "<|channel|>analysis<|message|>Need 2+2 <b>.<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>",
            reasoning: "Need 2+2 <b>.", content: "4")
        let call = #"<|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"x":1}<|call|>"#
        StreamingHarness.checkReasoning(
            parser, "<|channel|>analysis<|message|>Call f.<|end|>" + call, reasoning: "Call f.", content: call)
        StreamingHarness.checkReasoning(
            parser, #"<|channel|>analysis<|message|>Search. <|end|><|start|>assistant<|channel|>analysis to=browser.search code<|message|>{"query":"x"}<|call|>"#,
            reasoning: #"Search. {"query":"x"}"#, content: nil)
    }

    @Test func gptOssReasoningThenToolParser() {
        let text = #"<|channel|>analysis<|message|>Call f.<|end|><|start|>assistant<|channel|>commentary<|message|>One moment.<|end|><|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"x":1}"#
        let split = GptOssReasoningParser().split(text)
        #expect(split.reasoning == "Call f.")
        let result = OpenAIToolParser().parse(split.content ?? "")
        #expect(result == ToolParseResult(content: "One moment.", toolCalls: [ParsedToolCall(name: "f", arguments: #"{"x":1}"#)]))
    }
}
