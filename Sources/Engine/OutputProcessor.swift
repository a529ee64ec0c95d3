import EngineCore
import Tokenization

/// Turns one request's token deltas into text deltas: incremental detokenization, then
/// stop strings, which must never leak to the stream — text that could be the start of a
/// stop string is held back until the next tokens decide it.
public struct OutputProcessor {
    private var detokenizer: IncrementalDetokenizer
    private let stops: [[UInt8]]
    private let longestStop: Int
    /// UTF-8 of the text decoded but not yet emitted.
    private var pending: [UInt8] = []
    /// Set once a stop string was found; later tokens are ignored.
    public private(set) var matchedStop: String?
    /// The EOS tokens that end the output without being part of its text (also when special
    /// tokens are kept, as tool-call parsers need them); empty under `ignore_eos`.
    private let endTokens: Set<Int32>
    /// Keep a matched stop string in the text.
    private let includeStop: Bool

    public init(tokenizer: Tokenizer, params: SamplingParams) {
        detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecialTokens: params.skipSpecialTokens)
        endTokens = params.ignoreEOS ? [] : tokenizer.eosTokenIDs
        stops = params.stop.filter { !$0.isEmpty }.map { Array($0.utf8) }
        includeStop = params.includeStopStringInOutput
        longestStop = stops.map(\.count).max() ?? 0
    }

    /// Feeds new tokens; returns the text that may be emitted now. `final` flushes
    /// everything held back (the request ended).
    public mutating func process(_ tokens: [Int32], final: Bool) -> String {
        guard matchedStop == nil else { return "" }
        var tokens = tokens
        if final, let last = tokens.last, endTokens.contains(last) { tokens.removeLast() }
        pending.append(contentsOf: detokenizer.add(tokens).utf8)
        if final { pending.append(contentsOf: detokenizer.flush().utf8) }
        if let (start, stop) = firstStop() {
            matchedStop = String(decoding: stop, as: UTF8.self)
            let text = String(decoding: pending[..<(includeStop ? start + stop.count : start)], as: UTF8.self)
            pending.removeAll()
            return text
        }
        let keep = final ? 0 : heldBackCount()
        let text = String(decoding: pending[..<(pending.count - keep)], as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// The earliest complete stop string in `pending` (start index and the string).
    private func firstStop() -> (Int, [UInt8])? {
        var best: (Int, [UInt8])?
        for stop in stops where stop.count <= pending.count {
            var index = 0
            while index + stop.count <= pending.count {
                if pending[index] == stop[0] && pending[index ..< index + stop.count].elementsEqual(stop) {
                    if best == nil || index < best!.0 { best = (index, stop) }
                    break
                }
                index += 1
            }
        }
        return best
    }

    /// Length of the longest tail of `pending` that is a proper prefix of a stop string.
    private func heldBackCount() -> Int {
        guard longestStop > 1 else { return 0 }
        for length in stride(from: min(longestStop - 1, pending.count), through: 1, by: -1) {
            let tail = pending[(pending.count - length)...]
            if stops.contains(where: { $0.count > length && $0.prefix(length).elementsEqual(tail) }) {
                return length
            }
        }
        return 0
    }
}
