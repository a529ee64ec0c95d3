import OrderedJSON
import Testing
import ToolParsing

/// Checks a parser on one output: whole, fed one Unicode scalar at a time, and in random
/// chunkings, all of which must give the same result and well-formed event streams.
enum StreamingHarness {
    /// A call with `arguments` given as any JSON text (compared in compact form).
    static func call(_ name: String, _ arguments: String) -> ParsedToolCall {
        let compact = (try? JSON(parsing: arguments))?.serialized() ?? "invalid: \(arguments)"
        return ParsedToolCall(name: name, arguments: compact)
    }

    /// Pieces of `text` cut at the given scalar counts (the last piece takes the rest).
    static func pieces(of text: String, sizes: [Int]) -> [String] {
        var scalars = Substring(text).unicodeScalars[...]
        var result: [String] = []
        for size in sizes where !scalars.isEmpty {
            result.append(String(String.UnicodeScalarView(scalars.prefix(size))))
            scalars = scalars.dropFirst(size)
        }
        if !scalars.isEmpty { result.append(String(String.UnicodeScalarView(scalars))) }
        return result
    }

    /// Every chunking the checks use: one scalar at a time, then `randomRuns` random ones.
    static func chunkings(of text: String, randomRuns: Int = 24) -> [[String]] {
        let count = text.unicodeScalars.count
        var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: text.utf8.count) &* 0x9E37_79B9)
        var result = [pieces(of: text, sizes: Array(repeating: 1, count: count))]
        for _ in 0..<randomRuns {
            var sizes: [Int] = []
            var total = 0
            while total < count {
                let size = Int.random(in: 1...12, using: &generator)
                sizes.append(size)
                total += size
            }
            result.append(pieces(of: text, sizes: sizes))
        }
        return result
    }

    /// `text` parsed by `Parser` gives `content` and `calls`, whole and streamed.
    static func check<Parser: ToolCallParser>(
        _ parser: Parser.Type, _ text: String, content: String?, calls: [ParsedToolCall],
        forbidden: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let expected = ToolParseResult(content: content, toolCalls: calls)
        #expect(Parser().parse(text) == expected, "whole", sourceLocation: sourceLocation)
        for chunks in chunkings(of: text) {
            var streaming = Parser()
            var events: [ToolStreamEvent] = []
            for chunk in chunks { events += streaming.feed(chunk) }
            events += streaming.finish()
            guard ToolParseResult(events: events) == expected else {
                Issue.record("streamed in \(chunks) gave \(ToolParseResult(events: events))", sourceLocation: sourceLocation)
                return
            }
            checkOrder(events, forbidden: forbidden, sourceLocation: sourceLocation)
        }
    }

    /// Calls are numbered 0, 1, ... with each start before its arguments, and no content
    /// event carries a marker.
    static func checkOrder(_ events: [ToolStreamEvent], forbidden: [String], sourceLocation: SourceLocation) {
        var started = -1
        for event in events {
            switch event {
            case .toolCallStart(let index, _):
                #expect(index == started + 1, sourceLocation: sourceLocation)
                started = index
            case .arguments(let index, _):
                #expect(index == started, sourceLocation: sourceLocation)
            case .content(let text):
                #expect(!text.isEmpty, sourceLocation: sourceLocation)
                for marker in forbidden {
                    #expect(!text.contains(marker), "content \(text) holds \(marker)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// `text` split by `Parser` (made by `make`) gives `reasoning` and `content`, whole and streamed.
    static func checkReasoning<Parser: ReasoningParser>(
        _ make: () -> Parser, _ text: String, reasoning: String?, content: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let expected = ReasoningSplit(reasoning: reasoning, content: content)
        #expect(make().split(text) == expected, "whole", sourceLocation: sourceLocation)
        for chunks in chunkings(of: text) {
            var streaming = make()
            var events: [ReasoningStreamEvent] = []
            for chunk in chunks { events += streaming.feed(chunk) }
            events += streaming.finish()
            guard ReasoningSplit(events: events) == expected else {
                Issue.record("streamed in \(chunks) gave \(ReasoningSplit(events: events))", sourceLocation: sourceLocation)
                return
            }
        }
    }
}

/// A small seeded generator, so that random chunkings repeat from run to run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
