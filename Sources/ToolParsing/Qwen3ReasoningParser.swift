/// Qwen3's reasoning (vLLM's `qwen3` parser; SmolLM3 writes the same): a `<think>` … `</think>`
/// block at the start of the output is reasoning, the rest is content.
///
///     <think>
///     The user asks for 2 + 2.
///     </think>
///
///     4
///
/// With thinking disabled the template puts an empty block in the prompt and the output has no
/// tags: it is all content. An output cut off inside the block is all reasoning. Given a prompt
/// that ends inside an opened block (`init(prompt:)`, as the Qwen3 2507 thinking models'
/// template does), the output is reasoning up to `</think>`.
public struct Qwen3ReasoningParser: ReasoningParser {
    public static let name = "qwen3"

    private var splitter: ThinkBlockSplitter

    public init() {
        splitter = ThinkBlockSplitter(unopenedIsReasoning: false)
    }

    public init(prompt: String) {
        splitter = ThinkBlockSplitter(prompt: prompt, unopenedIsReasoning: false)
    }

    public mutating func feed(_ delta: String) -> [ReasoningStreamEvent] {
        splitter.feed(delta.utf8, final: false)
    }

    public mutating func finish() -> [ReasoningStreamEvent] {
        splitter.feed([], final: true)
    }
}
