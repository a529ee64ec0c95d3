/// Splits OpenAI's harmony format (gpt-oss) into messages as the text arrives.
///
/// After the prompt's `<|start|>assistant` the model writes messages such as
///
///     <|channel|>analysis<|message|>The user wants the weather.<|end|>
///     <|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Tokyo"}<|call|>
///     <|start|>assistant<|channel|>final<|message|>It is sunny.<|return|>
///
/// A header (`<|start|>ROLE` and/or `<|channel|>CHANNEL`, an optional ` to=RECIPIENT` before or
/// after the channel, an optional content type) runs up to `<|message|>`; the body runs up to
/// `<|end|>`, `<|call|>`, `<|return|>`, the next `<|start|>`, or the end of the output (the engine
/// stops on `<|call|>` and `<|return|>`, so they are often missing). These are special tokens:
/// the text must be detokenized without skipping special tokens.
struct HarmonyScanner {
    /// A message's header.
    struct Header: Equatable {
        /// `analysis`, `commentary` or `final` (empty if the header names none).
        var channel: String
        /// The `to=` recipient, e.g. `functions.get_weather`; nil for messages to the user.
        var recipient: String?
        /// The header's text as written, `<|message|>` included.
        var raw: [UInt8]
    }

    /// A piece of the output.
    enum Event: Equatable {
        /// Text outside any message.
        case text([UInt8])
        /// A message begins.
        case header(Header)
        /// Part of the current message's body.
        case body([UInt8])
        /// The current message ends with `terminator` (empty at the end of the output or
        /// before the next `<|start|>`).
        case end(terminator: [UInt8])
    }

    private static let start = Array("<|start|>".utf8)
    private static let channel = Array("<|channel|>".utf8)
    private static let message = Array("<|message|>".utf8)
    private static let terminators = [Array("<|end|>".utf8), Array("<|call|>".utf8), Array("<|return|>".utf8)]

    private enum State { case outside, header, body }

    private var buffer: [UInt8] = []
    private var state = State.outside

    /// Takes the next piece of text; with `final`, the output ends after it.
    mutating func feed(_ bytes: some Collection<UInt8>, final: Bool) -> [Event] {
        buffer += bytes
        var events: [Event] = []
        while !buffer.isEmpty || (final && state == .body) {
            switch state {
            case .outside:
                switch Markup.scan(buffer, from: 0, markers: [Self.start, Self.channel], final: final) {
                case .marker(let offset, _):
                    if offset > 0 { events.append(.text(take(offset))) }
                    state = .header
                case .text(let end):
                    if end > 0 { events.append(.text(take(end))) }
                    return events
                }
            case .header:
                guard let offset = Markup.find(Self.message, in: buffer, from: 0) else {
                    if final { events.append(.text(take(buffer.count))) }
                    return events
                }
                events.append(.header(Self.header(take(offset + Self.message.count))))
                state = .body
            case .body:
                switch Markup.scan(buffer, from: 0, markers: Self.terminators + [Self.start], final: final) {
                case .marker(let offset, let marker):
                    if offset > 0 { events.append(.body(take(offset))) }
                    let isStart = marker == Self.terminators.count
                    events.append(.end(terminator: isStart ? [] : take(Self.terminators[marker].count)))
                    state = .outside
                case .text(let end):
                    if end > 0 { events.append(.body(take(end))) }
                    guard final else { return events }
                    events.append(.end(terminator: []))
                    state = .outside
                }
            }
        }
        return events
    }

    /// Removes and returns the first `count` bytes of `buffer`.
    private mutating func take(_ count: Int) -> [UInt8] {
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// The channel and recipient named in a header's text.
    private static func header(_ raw: [UInt8]) -> Header {
        let text = Markup.text(raw)
        return Header(channel: word(after: "<|channel|>", in: text) ?? "", recipient: word(after: "to=", in: text), raw: raw)
    }

    /// The run of text after `marker` up to whitespace or the next special token.
    private static func word(after marker: String, in text: String) -> String? {
        guard let range = text.firstRange(of: marker) else { return nil }
        let word = text[range.upperBound...].prefix { !$0.isWhitespace && $0 != "<" }
        return String(word)
    }
}
