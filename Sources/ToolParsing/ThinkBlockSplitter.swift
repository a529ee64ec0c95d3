/// The `<think>` … `</think>` block that DeepSeek-R1, Qwen3 and SmolLM3 write before their
/// answer, split off as the text arrives.
///
/// The reasoning is the text inside the block with surrounding whitespace removed; the content
/// is the text after `</think>` without its leading whitespace. An output that does not start
/// with the block is either all reasoning (`unopenedIsReasoning`: the prompt opened the block,
/// as DeepSeek-R1's template does, so only `</think>` appears) or all content, unchanged.
struct ThinkBlockSplitter {
    private static let open = Array("<think>".utf8)
    private static let close = Array("</think>".utf8)

    private enum Phase {
        /// Before the first visible text: a `<think>` here opens the block.
        case start
        case reasoning
        /// After `</think>`: leading whitespace is still dropped.
        case answer
        /// No block: everything is content.
        case plain
    }

    private var phase: Phase
    private let unopenedIsReasoning: Bool
    private var buffer: [UInt8] = []
    private var reasoningStarted = false
    private var heldWhitespace: [UInt8] = []

    /// A splitter at the start of an output. `unopenedIsReasoning` makes an output without
    /// `<think>` reasoning up to its `</think>`.
    init(unopenedIsReasoning: Bool) {
        self.unopenedIsReasoning = unopenedIsReasoning
        phase = .start
    }

    /// A splitter for the output after `prompt`: one ending in `<think>` starts in the block,
    /// one ending in `</think>` has only content; otherwise as `init(unopenedIsReasoning:)`.
    init(prompt: String, unopenedIsReasoning: Bool) {
        self.init(unopenedIsReasoning: unopenedIsReasoning)
        let tail = Array(Markup.trimmed(Array(prompt.utf8.suffix(64))[...]))
        if tail.suffix(Self.close.count).elementsEqual(Self.close) {
            phase = .plain
        } else if tail.suffix(Self.open.count).elementsEqual(Self.open) {
            phase = .reasoning
        }
    }

    /// Takes the next piece of text; with `final`, the output ends after it.
    mutating func feed(_ bytes: some Collection<UInt8>, final: Bool) -> [ReasoningStreamEvent] {
        buffer += bytes
        var events: [ReasoningStreamEvent] = []
        while !buffer.isEmpty {
            switch phase {
            case .start:
                let first = Markup.skipWhitespace(buffer, from: 0)
                switch Markup.match(Self.open, in: buffer, at: first) {
                case .partial where !final:
                    return events
                case .full:
                    buffer.removeFirst(first + Self.open.count)
                    phase = .reasoning
                case .partial, .none:
                    phase = unopenedIsReasoning ? .reasoning : .plain
                }
            case .reasoning:
                switch Markup.scan(buffer, from: 0, markers: [Self.close], final: final) {
                case .marker(let offset, _):
                    events += reasoning(offset)
                    buffer.removeFirst(Self.close.count)
                    heldWhitespace = []
                    phase = .answer
                case .text(let end):
                    events += reasoning(end)
                    return events
                }
            case .answer:
                let first = Markup.skipWhitespace(buffer, from: 0)
                buffer.removeFirst(first)
                if !buffer.isEmpty { phase = .plain }
            case .plain:
                events.append(.content(Markup.text(buffer)))
                buffer = []
            }
        }
        return events
    }

    /// Reports `buffer[..<count]` as reasoning, without leading whitespace and holding back
    /// trailing whitespace until more reasoning follows.
    private mutating func reasoning(_ count: Int) -> [ReasoningStreamEvent] {
        var slice = buffer[..<count]
        defer { buffer.removeFirst(count) }
        if !reasoningStarted {
            while let first = slice.first, Markup.isWhitespace(first) { slice = slice.dropFirst() }
            if slice.isEmpty { return [] }
            reasoningStarted = true
        }
        guard let lastVisible = slice.lastIndex(where: { !Markup.isWhitespace($0) }) else {
            heldWhitespace += slice
            return []
        }
        let text = heldWhitespace + slice[...lastVisible]
        heldWhitespace = Array(slice[(lastVisible + 1)...])
        return [.reasoning(Markup.text(text))]
    }
}
