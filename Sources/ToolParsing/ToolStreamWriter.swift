/// Turns a parser's decisions (this is text, this is a call) into `ToolStreamEvent`s.
///
/// It numbers the calls and applies the whitespace rule that every parser shares: whitespace
/// right before a call or right after one is dropped, any other text passes unchanged. To do
/// that while streaming it holds back a trailing whitespace run until it knows what follows.
struct ToolStreamWriter {
    private var heldWhitespace: [UInt8] = []
    private var afterCall = false
    private var callCount = 0

    /// Plain text of the response.
    mutating func content(_ bytes: some Collection<UInt8>) -> [ToolStreamEvent] {
        var slice = ArraySlice(bytes)
        if afterCall {
            while let first = slice.first, Markup.isWhitespace(first) { slice = slice.dropFirst() }
            if slice.isEmpty { return [] }
            afterCall = false
        }
        guard let lastVisible = slice.lastIndex(where: { !Markup.isWhitespace($0) }) else {
            heldWhitespace += slice
            return []
        }
        let text = heldWhitespace + slice[...lastVisible]
        heldWhitespace = Array(slice[(lastVisible + 1)...])
        return [.content(Markup.text(text))]
    }

    /// A complete, valid call.
    mutating func call(_ call: ParsedToolCall) -> [ToolStreamEvent] {
        heldWhitespace = []
        afterCall = true
        let index = callCount
        callCount += 1
        return [.toolCallStart(index: index, name: call.name), .arguments(index: index, fragment: call.arguments)]
    }

    /// The end of the output: whitespace still held back is content after all.
    mutating func finish() -> [ToolStreamEvent] {
        defer { heldWhitespace = [] }
        return heldWhitespace.isEmpty ? [] : [.content(Markup.text(heldWhitespace))]
    }

    /// Sends the plain text at the head of `buffer`, up to the first of `markers`, as content
    /// and removes it: true when `buffer` now starts with the marker, false when all that is
    /// decided was sent and the rest (a possible start of a marker) waits for more text.
    mutating func content(upTo markers: [[UInt8]], in buffer: inout [UInt8], final: Bool,
                          events: inout [ToolStreamEvent]) -> Bool {
        switch Markup.scan(buffer, from: 0, markers: markers, final: final) {
        case .marker(let offset, _):
            events += content(buffer[..<offset])
            buffer.removeFirst(offset)
            return true
        case .text(let end):
            events += content(buffer[..<end])
            buffer.removeFirst(end)
            return false
        }
    }
}
