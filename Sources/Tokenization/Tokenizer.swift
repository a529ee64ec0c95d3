/// A BPE tokenizer that gives the same ids and text as Hugging Face `tokenizers`: byte-level
/// (GPT-2, Llama 3, Qwen2, SmolLM2) or SentencePiece-style with byte fallback (Llama 2, Mistral,
/// Gemma). Built from a model folder's tokenizer.json (`init(folder:)`) or a GGUF file's metadata
/// (`init(ggufMetadata:)`).
///
/// Encoding runs HF's pipeline: added tokens are cut out of the raw text, each stretch between
/// them is normalized, pre-tokenized into pieces and merged by the BPE model; the post-processor's
/// special tokens (BOS...) go around the whole. Thread-safe; one instance serves all requests.
public final class Tokenizer: Sendable {
    let model: BPEModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let decoder: TokenDecoder?
    /// Added tokens matched in the raw text, and those matched after normalization.
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    let addedTokens: [Int32: AddedToken]
    /// The string each added token decodes as: its content, or for a token matched after
    /// normalization, its normalized content (HF decodes that form).
    private let addedStrings: [Int32: String]
    private let addedIDs: [TokenKey: Int32]
    private let specialContents: Set<TokenKey>
    private let prefixIDs: [Int32]
    private let suffixIDs: [Int32]

    /// Number of token ids (model vocabulary and added tokens): the largest id plus one.
    public let vocabularySize: Int
    /// The beginning-of-sequence token, if the tokenizer names one.
    public let bosTokenID: Int32?
    /// Tokens that end generation: EOS and the end-of-turn tokens the configuration names
    /// (`<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`...).
    public let eosTokenIDs: Set<Int32>
    /// The BOS and EOS token strings, for chat templates.
    public let bosToken: String?
    public let eosToken: String?
    /// The Jinja chat template the model ships, if any.
    public let chatTemplate: String?
    /// Whether `encode(_:addSpecialTokens: true)` starts with the BOS token.
    public let addBOS: Bool

    init(configuration: TokenizerConfiguration) {
        model = configuration.model
        normalizer = configuration.normalizer
        preTokenizer = configuration.preTokenizer
        decoder = configuration.decoder
        let raw = configuration.addedTokens.filter { !$0.normalized }
        let normalized = configuration.addedTokens.filter(\.normalized)
        rawMatcher = AddedTokenMatcher(raw, patterns: raw.map(\.content))
        normalizedMatcher = AddedTokenMatcher(
            normalized, patterns: normalized.map { configuration.normalizer?.apply($0.content) ?? $0.content })
        var addedTokens: [Int32: AddedToken] = [:]
        var addedIDs: [TokenKey: Int32] = [:]
        for token in configuration.addedTokens {
            addedTokens[token.id] = token
            if addedIDs[TokenKey(token.content)] == nil { addedIDs[TokenKey(token.content)] = token.id }
        }
        self.addedTokens = addedTokens
        self.addedIDs = addedIDs
        addedStrings = addedTokens.mapValues { token in
            token.normalized ? configuration.normalizer?.apply(token.content) ?? token.content : token.content
        }
        specialContents = Set(configuration.addedTokens.filter(\.special).map { TokenKey($0.content) })
        prefixIDs = configuration.prefixIDs
        suffixIDs = configuration.suffixIDs
        let largestAdded = configuration.addedTokens.map { Int($0.id) }.max() ?? -1
        vocabularySize = max(configuration.model.tokens.count, largestAdded + 1)
        bosTokenID = configuration.bosTokenID
        var eosTokenIDs = configuration.eosTokenIDs
        if let eosTokenID = configuration.eosTokenID { eosTokenIDs.insert(eosTokenID) }
        self.eosTokenIDs = eosTokenIDs
        chatTemplate = configuration.chatTemplate
        addBOS = configuration.bosTokenID != nil && configuration.prefixIDs.first == configuration.bosTokenID
        let model = configuration.model
        func string(_ id: Int32) -> String? {
            addedTokens[id]?.content ?? (model.tokens.indices.contains(Int(id)) ? model.tokens[Int(id)] : nil)
        }
        bosToken = configuration.bosTokenID.flatMap(string)
        eosToken = configuration.eosTokenID.flatMap(string)
    }

    /// Token ids of `text`. With `addSpecialTokens`, the post-processor's special tokens (BOS for
    /// Llama and Gemma; none for SmolLM2 or Qwen2) go around them, as HF's `encode` does by default.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        var ids: [Int32] = addSpecialTokens ? prefixIDs : []
        let scalars = Array(text.unicodeScalars)
        ids.reserveCapacity(ids.count + scalars.count / 3)
        for segment in rawMatcher.split(scalars) {
            switch segment {
            case .token(let id): ids.append(id)
            case .text(let range): encodeText(scalars[range], atStart: range.lowerBound == 0, into: &ids)
            }
        }
        if addSpecialTokens { ids += suffixIDs }
        return ids
    }

    /// Normalizes one stretch of text between added tokens, cuts out the added tokens matched
    /// after normalization, pre-tokenizes the rest and runs the model on each piece.
    private func encodeText(_ raw: ArraySlice<Unicode.Scalar>, atStart: Bool, into ids: inout [Int32]) {
        let scalars: [Unicode.Scalar] =
            if let normalizer {
                Array(normalizer.apply(String(scalars: raw)).unicodeScalars)
            } else {
                Array(raw)
            }
        for segment in normalizedMatcher.split(scalars) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                let piece = Piece(scalars: scalars[range], atStart: atStart && range.lowerBound == 0)
                for piece in preTokenizer?.apply(to: [piece]) ?? [piece] {
                    model.encode(String(scalars: piece.scalars), into: &ids)
                }
            }
        }
    }

    /// The text of `ids`, as HF's `decode`: added tokens contribute their content, the decoder
    /// turns the token strings into text (byte-level bytes, `▁` to spaces, `<0xXX>` bytes) and
    /// invalid UTF-8 becomes U+FFFD. Ids outside the vocabulary are ignored.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = tokenString(id) else { continue }
            if skipSpecialTokens, specialContents.contains(TokenKey(token)) { continue }
            tokens.append(token)
        }
        return decoder?.decode(tokens) ?? tokens.joined(separator: " ")
    }

    /// The vocabulary string of a token (`Ġhello`, `▁hello`, `<|im_end|>`), or nil if unknown.
    public func tokenString(_ id: Int32) -> String? {
        if let added = addedStrings[id] { return added }
        guard id >= 0, Int(id) < model.tokens.count, !model.tokens[Int(id)].isEmpty else { return nil }
        return model.tokens[Int(id)]
    }

    /// The id of a vocabulary string, or nil if it is not one.
    public func tokenID(_ token: String) -> Int32? {
        addedIDs[TokenKey(token)] ?? model.id(of: token)
    }

    /// Whether `id` is a special token (control tokens such as BOS, EOS, `<|im_start|>`), which
    /// `decode(_:skipSpecialTokens: true)` leaves out.
    public func isSpecial(_ id: Int32) -> Bool {
        addedTokens[id]?.special ?? false
    }
}
