import Foundation

/// A BPE vocabulary and its merge rule: byte-level (GPT-2 alphabet, one symbol per byte) or
/// SentencePiece-style (one symbol per Unicode scalar, `<0xXX>` byte fallback).
///
/// Merges come either ranked (tokenizer.json, GGUF `gpt2`: a dictionary keyed by the pair of ids)
/// or from scores (GGUF `llama`, which stores none: as in llama.cpp's `llm_tokenizer_spm`, the
/// adjacent pair whose joined piece is a token with the highest score merges first; ties go as
/// transformers orders the merges it derives from such a vocabulary).
final class BPEModel: Sendable {
    /// Where the merges come from.
    enum Merges {
        /// "left right" pairs of token strings, the first merging first (tokenizer.json, GGUF gpt2).
        case ranked([(String, String)])
        /// One score per token: a pair merges when its joined piece is a token, highest score
        /// first (GGUF llama).
        case scored([Float])
    }

    private enum MergeRule: Sendable {
        case ranks([UInt64: MergeTarget])
        /// The rank of each token by descending score, ties by id.
        case scores([Int64])
    }

    /// Token strings by id; ids missing from the vocabulary hold "".
    let tokens: [String]
    private let vocabulary: [TokenKey: Int32]
    private let rule: MergeRule
    let isByteLevel: Bool
    let byteFallback: Bool
    let unknownID: Int32?
    let fuseUnknown: Bool
    /// Llama 3: a piece that is itself a token is emitted whole, whatever the merges say.
    let ignoreMerges: Bool
    /// Byte-level: the token of each byte's alphabet code point (-1 if absent).
    private let byteSymbols: [Int32]
    /// The `<0xXX>` token of each byte (-1 if absent).
    private let byteFallbackIDs: [Int32]
    /// Tokens of one scalar, keyed by the scalar's value.
    private let scalarIDs: [UInt32: Int32]
    private let cache = PieceCache(capacity: 20_000)

    init(
        tokens: [String], merges: Merges, isByteLevel: Bool, byteFallback: Bool, unknownID: Int32?,
        fuseUnknown: Bool, ignoreMerges: Bool
    ) throws {
        self.tokens = tokens
        var vocabulary: [TokenKey: Int32] = [:]
        vocabulary.reserveCapacity(tokens.count)
        var scalarIDs: [UInt32: Int32] = [:]
        for (id, token) in tokens.enumerated() where !token.isEmpty {
            // The first id wins where a string repeats, as in a GGUF token list read in order.
            if vocabulary[TokenKey(token)] == nil { vocabulary[TokenKey(token)] = Int32(id) }
            var scalars = token.unicodeScalars.makeIterator()
            if let only = scalars.next(), scalars.next() == nil, scalarIDs[only.value] == nil {
                scalarIDs[only.value] = Int32(id)
            }
        }
        switch merges {
        case .ranked(let pairs): rule = .ranks(try Self.rankTable(pairs, vocabulary: vocabulary))
        case .scored(let scores): rule = .scores(Self.scoreRanks(scores))
        }
        self.vocabulary = vocabulary
        self.scalarIDs = scalarIDs
        self.isByteLevel = isByteLevel
        self.byteFallback = byteFallback
        self.unknownID = unknownID
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        byteSymbols = ByteLevelAlphabet.scalarForByte.map { scalarIDs[$0.value] ?? -1 }
        byteFallbackIDs = (0..<256).map { vocabulary[TokenKey(String(format: "<0x%02X>", $0))] ?? -1 }
    }

    /// Number of distinct token strings in the vocabulary.
    var vocabularyCount: Int { vocabulary.count }

    /// The id of a token string (exact match), or nil.
    func id(of token: String) -> Int32? {
        vocabulary[TokenKey(token)]
    }

    private static func rankTable(
        _ pairs: [(String, String)], vocabulary: [TokenKey: Int32]
    ) throws -> [UInt64: MergeTarget] {
        var table: [UInt64: MergeTarget] = [:]
        table.reserveCapacity(pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            let merge = "merge \"\(left) \(right)\""
            guard let leftID = vocabulary[TokenKey(left)], let rightID = vocabulary[TokenKey(right)] else {
                throw TokenizerError.malformed(source: "merges", reason: "\(merge) uses a token not in the vocabulary")
            }
            guard let merged = vocabulary[TokenKey(left + right)] else {
                throw TokenizerError.malformed(source: "merges", reason: "\(merge) makes a token not in the vocabulary")
            }
            // A pair listed twice keeps its last rank, as in HF tokenizers.
            table[pairKey(leftID, rightID)] = MergeTarget(rank: Int64(rank), id: merged)
        }
        return table
    }

    /// Each token's place when sorted by descending score, ties by id.
    private static func scoreRanks(_ scores: [Float]) -> [Int64] {
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var ranks = [Int64](repeating: 0, count: scores.count)
        for (rank, id) in order.enumerated() { ranks[id] = Int64(rank) }
        return ranks
    }

    @inline(__always)
    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the tokens of one pre-tokenized piece (raw text for a byte-level model).
    func encode(_ piece: String, into ids: inout [Int32]) {
        if piece.isEmpty { return }
        let cacheable = piece.utf8.count < 256
        if cacheable, let hit = cache.lookup(TokenKey(piece)) {
            ids.append(contentsOf: hit)
            return
        }
        var symbols: [Int32]
        if ignoreMerges, let whole = id(of: isByteLevel ? ByteLevelAlphabet.spell(piece) : piece) {
            symbols = [whole]
        } else {
            symbols = initialSymbols(piece)
            switch rule {
            case .ranks(let table):
                BPEMerger.mergeAll(&symbols) { table[Self.pairKey($0, $1)] }
            case .scores(let ranks):
                // A whole stretch of text is one piece here, so pairs repeat: remember them.
                var known: [UInt64: MergeTarget?] = [:]
                BPEMerger.mergeAll(&symbols) { left, right in
                    let key = Self.pairKey(left, right)
                    if let target = known[key] { return target }
                    let target = scoredMerge(left, right, ranks: ranks)
                    known[key] = target
                    return target
                }
            }
        }
        if cacheable { cache.store(TokenKey(piece), symbols) }
        ids.append(contentsOf: symbols)
    }

    /// The symbols a piece starts as: one per byte (byte-level) or per scalar; a scalar with no
    /// token becomes its `<0xXX>` tokens or the unknown token (runs of which fuse), as in HF.
    private func initialSymbols(_ piece: String) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.utf8.count)
        var pendingUnknown = false
        func addKnown(_ id: Int32) {
            if pendingUnknown, let unknownID { symbols.append(unknownID) }
            pendingUnknown = false
            symbols.append(id)
        }
        func addMissing(_ bytes: some Collection<UInt8>) {
            // HF puts byte tokens straight in, ahead of a pending unknown token.
            if byteFallback, bytes.allSatisfy({ byteFallbackIDs[Int($0)] >= 0 }) {
                symbols.append(contentsOf: bytes.map { byteFallbackIDs[Int($0)] })
                return
            }
            guard let unknownID else { return }
            if pendingUnknown, !fuseUnknown { symbols.append(unknownID) }
            pendingUnknown = true
        }
        if isByteLevel {
            for byte in piece.utf8 {
                let id = byteSymbols[Int(byte)]
                if id >= 0 { addKnown(id) } else { addMissing(UTF8.encode(ByteLevelAlphabet.scalarForByte[Int(byte)])!) }
            }
        } else {
            for scalar in piece.unicodeScalars {
                if let id = scalarIDs[scalar.value] { addKnown(id) } else { addMissing(UTF8.encode(scalar)!) }
            }
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
        return symbols
    }

    /// The merge of two adjacent tokens by score, in the order transformers gives the merges it
    /// derives from a vocabulary (`generate_merges`): the joined token's rank, then the longer
    /// left part, then the longer right part.
    private func scoredMerge(_ left: Int32, _ right: Int32, ranks: [Int64]) -> MergeTarget? {
        let leftToken = tokens[Int(left)]
        let rightToken = tokens[Int(right)]
        guard let id = vocabulary[TokenKey(leftToken + rightToken)] else { return nil }
        let leftLength = Int64(0xFFFF - min(leftToken.unicodeScalars.count, 0xFFFF))
        let rightLength = Int64(0xFFFF - min(rightToken.unicodeScalars.count, 0xFFFF))
        return MergeTarget(rank: ranks[Int(id)] << 32 | leftLength << 16 | rightLength, id: id)
    }
}

/// Tokens of recently seen pieces; words repeat, so most pieces of a long text skip the merges.
final class PieceCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [TokenKey: [Int32]] = [:]
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func lookup(_ piece: TokenKey) -> [Int32]? {
        lock.withLock { entries[piece] }
    }

    func store(_ piece: TokenKey, _ ids: [Int32]) {
        lock.withLock {
            if entries.count < capacity { entries[piece] = ids }
        }
    }
}
