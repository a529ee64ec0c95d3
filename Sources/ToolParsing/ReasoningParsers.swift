/// The reasoning parsers by the names that vLLM's `--reasoning-parser` uses.
public enum ReasoningParsers {
    private static var all: [any ReasoningParser.Type] {
        [
            DeepSeekR1ReasoningParser.self, Qwen3ReasoningParser.self, GptOssReasoningParser.self,
        ]
    }

    /// The parser called `name` (`openai` is taken for `openai_gptoss`, matching the tool-call
    /// parser's name), nil if there is none.
    public static func parser(named name: String) -> (any ReasoningParser.Type)? {
        let canonical = name == "openai" ? GptOssReasoningParser.name : name
        return all.first { $0.name == canonical }
    }

    /// The parsers' names: `deepseek_r1`, `qwen3`, `openai_gptoss`.
    public static var names: [String] { all.map { $0.name } }

    /// The parser a chat template implies: `openai_gptoss` for harmony templates;
    /// `deepseek_r1` when the generation prompt opens a `<think>` block that the model closes
    /// (a string in the template's last `add_generation_prompt` section that holds `<think>`
    /// without `</think>`); `qwen3` for other templates that mention `<think>`; else nil.
    public static func detect(chatTemplate: String) -> String? {
        if chatTemplate.contains("<|channel|>analysis") { return GptOssReasoningParser.name }
        guard chatTemplate.contains("<think>") else { return nil }
        let tail = chatTemplate.split(separator: "add_generation_prompt", omittingEmptySubsequences: false).last ?? ""
        let opensBlock = quotedStrings(in: tail).contains { $0.contains("<think>") && !$0.contains("</think>") }
        return opensBlock ? DeepSeekR1ReasoningParser.name : Qwen3ReasoningParser.name
    }

    /// The contents of the `'…'` and `"…"` literals in template text.
    private static func quotedStrings(in text: Substring) -> [Substring] {
        var strings: [Substring] = []
        var index = text.startIndex
        while let open = text[index...].firstIndex(where: { $0 == "'" || $0 == "\"" }) {
            let quote = text[open]
            let bodyStart = text.index(after: open)
            guard let close = text[bodyStart...].firstIndex(of: quote) else { break }
            strings.append(text[bodyStart..<close])
            index = text.index(after: close)
        }
        return strings
    }
}
