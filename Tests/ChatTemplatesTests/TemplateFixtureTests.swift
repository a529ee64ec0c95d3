import ChatTemplates
import Testing

/// Real chat templates (SmolLM2, Llama 3.1/3.2, Qwen2.5, Qwen3, Mistral Nemo, Gemma 2/3 and
/// others) over many conversations: every output byte-for-byte equal to jinja2's, every
/// `raise_exception` with jinja2's message.
struct TemplateFixtureTests {
    static let templates = [
        "smollm2", "llama-3.1", "llama-3.2", "qwen2.5", "qwen3", "mistral-nemo", "gemma-3", "gemma-2",
        "smollm3", "phi-3.5", "deepseek-r1-distill-qwen", "hermes-2-pro", "gpt-oss",
    ]

    @Test(arguments: templates)
    func rendersLikeJinja2(_ name: String) throws {
        let suite = try #require(try Fixtures.objects("templates.json").first { $0["template"]?.stringValue == name + ".jinja" })
        let template = try ChatTemplate(try Fixtures.text("templates/\(name).jinja"))
        let cases = try #require(suite["cases"]?.arrayValue)
        #expect(!cases.isEmpty)
        for item in cases {
            let object = try #require(item.dictionaryValue)
            let label = "\(name)/\(object["name"]?.stringValue ?? "?")"
            let context = try Fixtures.context(object)
            try Fixtures.check(object, label: label) { try template.render(context, time: Fixtures.time) }
        }
    }

    /// The convenience API passes what transformers passes (`tools` and `documents` as None).
    @Test func conveniencePassesTransformersVariables() throws {
        let template = try ChatTemplate(try Fixtures.text("templates/qwen3.jinja"))
        let suite = try #require(try Fixtures.objects("templates.json").first { $0["template"]?.stringValue == "qwen3.jinja" })
        let object = try #require(suite["cases"]?.arrayValue?.compactMap(\.dictionaryValue).first { $0["name"]?.stringValue == "system_user" })
        let messages: [[String: JinjaValue]] = [
            ["role": "system", "content": "You are a concise assistant."],
            ["role": "user", "content": "What is the capital of France?"],
        ]
        let output = try template.render(messages: messages, addGenerationPrompt: true, bosToken: "", eosToken: "<|im_end|>")
        #expect(output == object["output"]?.stringValue)
        let thinking = try template.render(
            messages: [messages[1]], addGenerationPrompt: true, bosToken: "", eosToken: "<|im_end|>",
            extra: ["enable_thinking": false])
        #expect(thinking.hasSuffix("<|im_start|>assistant\n<think>\n\n</think>\n\n"))
    }
}
