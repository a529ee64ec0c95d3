/// DeepSeek-R1's reasoning (vLLM's `deepseek_r1` parser): everything up to `</think>` is
/// reasoning, the rest is content.
///
///     <think>
///     The user asks for 2 + 2.
///     </think>
///
///     4
///
/// R1's chat template ends the prompt with `<think>\n`, so the output usually has only the
/// closing tag; an opening `<think>` at the start is dropped if present. An output without
/// `</think>` (cut off while thinking) is all reasoning. Given a prompt that already closed the
/// block (`init(prompt:)` with thinking disabled, `…<think>\n</think>`), the output is all content.
public struct DeepSeekR1ReasoningParser: ReasoningParser {
    public static let name = "deepseek_r1"

    private var splitter: ThinkBlockSplitter

    public init() {
        splitter = ThinkBlockSplitter(unopenedIsReasoning: true)
    }

    public init(prompt: String) {
        splitter = ThinkBlockSplitter(prompt: prompt, unopenedIsReasoning: true)
    }

    public mutating func feed(_ delta: String) -> [ReasoningStreamEvent] {
        splitter.feed(delta.utf8, final: false)
    }

    public mutating func finish() -> [ReasoningStreamEvent] {
        splitter.feed([], final: true)
    }
}
