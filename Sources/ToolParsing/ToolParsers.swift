/// The tool-call parsers by the names that vLLM's `--tool-call-parser` uses.
public enum ToolParsers {
    private static var all: [any ToolCallParser.Type] {
        [
            HermesToolParser.self, Llama3JSONToolParser.self, MistralToolParser.self,
            PythonicToolParser.self, DeepSeekV3ToolParser.self, OpenAIToolParser.self,
        ]
    }

    /// Other names vLLM gives the same formats.
    private static let aliases: [String: String] = [
        "llama4_json": Llama3JSONToolParser.name,
        "llama4_pythonic": PythonicToolParser.name,
        "deepseek_v31": DeepSeekV3ToolParser.name,
    ]

    /// The parser called `name` (or one of its aliases: `llama4_json`, `llama4_pythonic`,
    /// `deepseek_v31`), nil if there is none.
    public static func parser(named name: String) -> (any ToolCallParser.Type)? {
        let canonical = aliases[name] ?? name
        return all.first { $0.name == canonical }
    }

    /// The parsers' names: `hermes`, `llama3_json`, `mistral`, `pythonic`, `deepseek_v3`, `openai`.
    public static var names: [String] { all.map { $0.name } }

    /// The parser whose format a chat template writes tool calls in, when exactly one format's
    /// markers appear in it; nil for templates without tool calls or with several formats.
    public static func detect(chatTemplate: String) -> String? {
        let found = signatures.filter { signature in signature.markers.contains { chatTemplate.contains($0) } }
        return found.count == 1 ? found[0].parser : nil
    }

    /// Text that only a template of that format contains.
    private static let signatures: [(parser: String, markers: [String])] = [
        (HermesToolParser.name, ["<tool_call>"]),
        (Llama3JSONToolParser.name, ["<|python_tag|>", "\"parameters\": dictionary of argument name"]),
        (MistralToolParser.name, ["[TOOL_CALLS]"]),
        (PythonicToolParser.name, ["[func_name1(", "<|python_start|>"]),
        (DeepSeekV3ToolParser.name, ["<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>"]),
        (OpenAIToolParser.name, ["<|channel|>commentary"]),
    ]
}
