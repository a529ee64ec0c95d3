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
