/// Turns a stream of generated token ids into text deltas, as vLLM's `detokenize_incrementally`:
/// each step decodes a short window of recent tokens twice, up to the read offset and up to the
/// end, and emits what the new tokens added. Decoding a window rather than single tokens keeps
/// SentencePiece's word-initial spaces (which a decoder strips from the first token) and never
/// splits a character: while the window's text ends in U+FFFD (an incomplete UTF-8 sequence,
/// e.g. half of an emoji's byte tokens) the text is held back.
///
/// The deltas of `add` followed by `flush()` concatenate to `tokenizer.decode(ids)`.
public struct IncrementalDetokenizer: Sendable {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    /// Tokens from `prefixOffset` on; the earlier ones are already emitted and no longer needed.
    private var window: [Int32] = []
    /// Within `window`: tokens before `readOffset` are emitted; the window starts at the prefix,
    /// the context that gives the next token its leading space.
    private var readOffset = 0

    /// A detokenizer for text following `promptIDs` (whose own text is not emitted): the last
    /// few prompt tokens serve as context for the first generated token. The context starts on a
    /// character boundary (a run of byte tokens cut in the middle decodes to nothing but U+FFFD).
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false, promptIDs: [Int32] = []) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        func startsMidCharacter(_ start: Int) -> Bool {
            let text = tokenizer.decode(Array(promptIDs[start...]), skipSpecialTokens: skipSpecialTokens)
            return text.unicodeScalars.first == "\u{FFFD}"
        }
        var start = max(promptIDs.count - 5, 0)
        while start > 0, promptIDs.count - start < 24, startsMidCharacter(start) { start -= 1 }
        window = Array(promptIDs[start...])
        readOffset = window.count
    }

    /// Adds one generated token; returns the text it completes ("" while a character is partial).
    public mutating func add(_ id: Int32) -> String {
        add(CollectionOfOne(id))
    }

    /// Adds generated tokens; returns the text they complete.
    public mutating func add(_ ids: some Sequence<Int32>) -> String {
        window.append(contentsOf: ids)
        return emit(holdingIncompleteTail: true)
    }

    /// The text still held back (an incomplete character at the end of the stream, as U+FFFD).
    public mutating func flush() -> String {
        emit(holdingIncompleteTail: false)
    }

    /// What the tokens after the read offset add to the window's text; then the window moves on.
    private mutating func emit(holdingIncompleteTail: Bool) -> String {
        let prefixCount = decodeWindow(upTo: readOffset).unicodeScalars.count
        let scalars = decodeWindow(upTo: window.count).unicodeScalars
        guard scalars.count > prefixCount else { return "" }
        if holdingIncompleteTail, scalars.last == "\u{FFFD}" { return "" }
        window.removeFirst(readOffset)
        readOffset = window.count
        return String(scalars[scalars.index(scalars.startIndex, offsetBy: prefixCount)...])
    }

    private func decodeWindow(upTo end: Int) -> String {
        end == 0 ? "" : tokenizer.decode(Array(window[..<end]), skipSpecialTokens: skipSpecialTokens)
    }
}
