/// Everything a `Tokenizer` is built from, whichever source (tokenizer.json or GGUF) described it.
struct TokenizerConfiguration {
    var model: BPEModel
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer?
    var decoder: TokenDecoder?
    var addedTokens: [AddedToken] = []
    /// Special tokens put around a single sequence when special tokens are added.
    var prefixIDs: [Int32] = []
    var suffixIDs: [Int32] = []
    var bosTokenID: Int32?
    /// The EOS token proper (what `eosToken` names and `add_eos_token` appends).
    var eosTokenID: Int32?
    /// Every token that ends generation, `eosTokenID` included.
    var eosTokenIDs: Set<Int32> = []
    var chatTemplate: String?

    /// The most tokens a vocabulary may have, and how far past the model's own tokens added
    /// tokens may be numbered: bounds far above real tokenizers (~260k tokens), so that a file
    /// cannot make Tern allocate gigabytes for ids it merely names.
    static let maxVocabularySize = 1 << 24
    static let maxAddedIDGap = 1 << 16

    /// Throws, naming the field, unless every id the configuration names (BOS, EOS, the
    /// post-processor's tokens, added tokens, the unknown token) lies inside the vocabulary.
    func validate(source: String) throws {
        let modelCount = model.tokens.count
        guard modelCount <= Self.maxVocabularySize else {
            throw TokenizerError.malformed(source: source, reason: "the vocabulary has \(modelCount) tokens, more than the \(Self.maxVocabularySize) Tern takes")
        }
        let limit = modelCount + Self.maxAddedIDGap
        if let token = addedTokens.first(where: { $0.id < 0 || Int($0.id) >= limit }) {
            throw TokenizerError.malformed(
                source: source, reason: "added token \(token.content.debugDescription) has id \(token.id), far outside the vocabulary of \(modelCount) tokens")
        }
        let size = max(modelCount, (addedTokens.map { Int($0.id) }.max() ?? -1) + 1)
        let named: [(String, [Int32])] = [
            ("the BOS token id", bosTokenID.map { [$0] } ?? []), ("the EOS token id", eosTokenID.map { [$0] } ?? []),
            ("the end-of-generation token ids", eosTokenIDs.sorted()), ("the post-processor's token ids", prefixIDs + suffixIDs),
            ("the unknown token id", model.unknownID.map { [$0] } ?? []),
        ]
        for (field, ids) in named {
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= size }) {
                throw TokenizerError.malformed(source: source, reason: "\(field) \(bad) is outside the vocabulary (0..<\(size))")
            }
        }
    }

    /// The id of a token string: an added token's first, else the model's.
    func id(of token: String) -> Int32? {
        addedTokens.first { $0.content.utf8.elementsEqual(token.utf8) }?.id ?? model.id(of: token)
    }

    /// Special tokens around a sequence as transformers builds them from `add_bos_token` and
    /// `add_eos_token` (its `update_post_processor`), replacing any post-processor.
    mutating func setSpecialTokens(addBOS: Bool, addEOS: Bool) {
        prefixIDs = addBOS ? bosTokenID.map { [$0] } ?? [] : []
        suffixIDs = addEOS ? eosTokenID.map { [$0] } ?? [] : []
    }

    /// The words of llama.cpp's list of end-of-generation tokens (`special_eog_ids`), which a
    /// GGUF marks only by name: a chat model stops on these besides its EOS token.
    static let endOfGenerationNames: Set<String> = [
        "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
        "<|end_of_text|>",
    ]
}
