/// A stretch of text on its way to the model, as Unicode scalars. `atStart`: it begins the input
/// (Metaspace's `first` scheme prepends `▁` only there).
struct Piece {
    var scalars: ArraySlice<Unicode.Scalar>
    var atStart: Bool
}

/// The pre-tokenizers of tokenizer.json that Tern implements: those of GPT-2, Llama 3, Qwen2,
/// SmolLM2 (byte-level) and of SentencePiece-style models (Metaspace). Behaviour follows HF
/// tokenizers step by step; empty pieces are dropped after every step, as HF does.
indirect enum PreTokenizer: Sendable, Equatable {
    case sequence([PreTokenizer])
    /// Byte-level: optionally a space in front of each piece, then GPT-2's split when `useRegex`.
    /// The byte-to-alphabet mapping itself is left to the model (`BPEModel.isByteLevel`), so
    /// ByteLevel must be the last step.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(SplitRule, behavior: SplitBehavior, invert: Bool)
    /// Numbers (`\p{N}`) apart from the rest: each digit alone, or runs of them.
    case digits(individual: Bool)
    /// Spaces become `replacement`, which may also be put in front; optionally split before each.
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)

    enum SplitRule: Sendable, Equatable {
        case regex(SplitPattern)
        case literal([Unicode.Scalar])
    }

    enum SplitBehavior: String, Sendable {
        case removed = "Removed", isolated = "Isolated", contiguous = "Contiguous"
        case mergedWithPrevious = "MergedWithPrevious", mergedWithNext = "MergedWithNext"
    }

    enum PrependScheme: String, Sendable {
        case first, always, never
    }

    /// Whether the pieces this produces are to be read as bytes (a byte-level vocabulary).
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: true
        case .sequence(let steps): steps.last?.isByteLevel ?? false
        default: false
        }
    }

    /// Whether a ByteLevel step appears anywhere but last (which Tern does not support).
    var hasInnerByteLevel: Bool {
        guard case .sequence(let steps) = self else { return false }
        return steps.dropLast().contains { $0.isByteLevel || $0.hasInnerByteLevel }
            || (steps.last?.hasInnerByteLevel ?? false)
    }

    func apply(to pieces: [Piece]) -> [Piece] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.apply(to: $0) }
        case .byteLevel(let addPrefixSpace, let useRegex):
            return pieces.flatMap { piece -> [Piece] in
                var piece = piece
                if addPrefixSpace, piece.scalars.first != " " {
                    var scalars: [Unicode.Scalar] = [" "]
                    scalars += piece.scalars
                    piece.scalars = scalars[...]
                }
                return useRegex ? Self.split(piece, tiles: Self.regexTiles(.gpt2, piece.scalars), .isolated) : [piece]
            }
        case .split(let rule, let behavior, let invert):
            return pieces.flatMap { piece in
                var tiles =
                    switch rule {
                    case .regex(let pattern): Self.regexTiles(pattern, piece.scalars)
                    case .literal(let literal): Self.literalTiles(literal, piece.scalars)
                    }
                if invert { tiles = tiles.map { ($0.range, !$0.isMatch) } }
                return Self.split(piece, tiles: tiles, behavior)
            }
        case .digits(let individual):
            return pieces.flatMap { piece in
                let tiles = Self.scalarTiles(piece.scalars) { ScalarClass($0) == .number }
                return Self.split(piece, tiles: tiles, individual ? .isolated : .contiguous)
            }
        case .metaspace(let replacement, let scheme, let split):
            return pieces.flatMap { piece -> [Piece] in
                var scalars = piece.scalars.map { $0 == " " ? replacement : $0 }
                let prepend =
                    switch scheme {
                    case .always: true
                    case .first: piece.atStart
                    case .never: false
                    }
                if prepend, scalars.first != replacement { scalars.insert(replacement, at: 0) }
                let replaced = Piece(scalars: scalars[...], atStart: piece.atStart)
                guard split else { return [replaced] }
                let tiles = Self.scalarTiles(replaced.scalars) { $0 == replacement }
                return Self.split(replaced, tiles: tiles, .mergedWithNext)
            }
        }
    }

    /// Tiles of the text: consecutive ranges, each a match of the pattern or a gap between matches.
    private typealias Tiles = [(range: Range<Int>, isMatch: Bool)]

    private static func regexTiles(_ pattern: SplitPattern, _ scalars: ArraySlice<Unicode.Scalar>) -> Tiles {
        var tiles: Tiles = []
        var start = scalars.startIndex
        for end in pattern.matchEnds(in: Array(scalars)) {
            tiles.append((start..<(scalars.startIndex + end), true))
            start = scalars.startIndex + end
        }
        return tiles
    }

    private static func literalTiles(_ literal: [Unicode.Scalar], _ scalars: ArraySlice<Unicode.Scalar>) -> Tiles {
        guard !literal.isEmpty else { return [(scalars.indices, false)] }
        var tiles: Tiles = []
        var gapStart = scalars.startIndex
        var index = scalars.startIndex
        while index + literal.count <= scalars.endIndex {
            if scalars[index..<(index + literal.count)].elementsEqual(literal) {
                if gapStart < index { tiles.append((gapStart..<index, false)) }
                tiles.append((index..<(index + literal.count), true))
                index += literal.count
                gapStart = index
            } else {
                index += 1
            }
        }
        if gapStart < scalars.endIndex { tiles.append((gapStart..<scalars.endIndex, false)) }
        return tiles
    }

    /// Each scalar satisfying `isMatch` is a match of its own; the scalars between are gaps.
    private static func scalarTiles(
        _ scalars: ArraySlice<Unicode.Scalar>, _ isMatch: (Unicode.Scalar) -> Bool
    ) -> Tiles {
        var tiles: Tiles = []
        var gapStart = scalars.startIndex
        for index in scalars.indices where isMatch(scalars[index]) {
            if gapStart < index { tiles.append((gapStart..<index, false)) }
            tiles.append((index..<(index + 1), true))
            gapStart = index + 1
        }
        if gapStart < scalars.endIndex { tiles.append((gapStart..<scalars.endIndex, false)) }
        return tiles
    }

    /// HF's `NormalizedString::split`: tiles grouped by the delimiter behaviour; removed tiles and
    /// empty pieces dropped.
    private static func split(_ piece: Piece, tiles: Tiles, _ behavior: SplitBehavior) -> [Piece] {
        var ranges: [(range: Range<Int>, remove: Bool)] = []
        var previousMatch = false
        switch behavior {
        case .isolated:
            ranges = tiles.map { ($0.range, false) }
        case .removed:
            ranges = tiles.map { ($0.range, $0.isMatch) }
        case .contiguous:
            for tile in tiles {
                if tile.isMatch == previousMatch, let last = ranges.last {
                    ranges[ranges.count - 1].range = last.range.lowerBound..<tile.range.upperBound
                } else {
                    ranges.append((tile.range, false))
                }
                previousMatch = tile.isMatch
            }
        case .mergedWithPrevious:
            for tile in tiles {
                if tile.isMatch, !previousMatch, let last = ranges.last {
                    ranges[ranges.count - 1].range = last.range.lowerBound..<tile.range.upperBound
                } else {
                    ranges.append((tile.range, false))
                }
                previousMatch = tile.isMatch
            }
        case .mergedWithNext:
            for tile in tiles.reversed() {
                if tile.isMatch, !previousMatch, let last = ranges.last {
                    ranges[ranges.count - 1].range = tile.range.lowerBound..<last.range.upperBound
                } else {
                    ranges.append((tile.range, false))
                }
                previousMatch = tile.isMatch
            }
            ranges.reverse()
        }
        return ranges.compactMap { range, remove in
            guard !remove, !range.isEmpty else { return nil }
            let atStart = piece.atStart && range.lowerBound == piece.scalars.startIndex
            return Piece(scalars: piece.scalars[range], atStart: atStart)
        }
    }
}
