/// Why a tokenizer could not be built. Each case describes itself in one readable line.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A file the tokenizer needs is absent or unreadable.
    case unreadableFile(path: String, reason: String)
    /// A file or metadata value does not have the expected shape.
    case malformed(source: String, reason: String)
    /// A required key is missing.
    case missingKey(source: String, key: String)
    /// The tokenizer model (`BPE`, `WordPiece`, `gpt2`, `llama`, ...) is not one Tern implements.
    case unsupportedModel(String)
    /// A pre-tokenizer (or one of its settings, such as a split regex) is not one Tern implements.
    case unsupportedPreTokenizer(String)
    /// A normalizer is not one Tern implements.
    case unsupportedNormalizer(String)
    /// A decoder is not one Tern implements.
    case unsupportedDecoder(String)
    /// A post-processor is not one Tern implements.
    case unsupportedPostProcessor(String)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "cannot read tokenizer file \(path): \(reason)"
        case .malformed(let source, let reason):
            "malformed tokenizer data in \(source): \(reason)"
        case .missingKey(let source, let key):
            "tokenizer data in \(source) lacks the key \(key)"
        case .unsupportedModel(let name):
            "unsupported tokenizer model: \(name) (Tern supports BPE: byte-level and SentencePiece-style)"
        case .unsupportedPreTokenizer(let name):
            "unsupported pre-tokenizer: \(name)"
        case .unsupportedNormalizer(let name):
            "unsupported normalizer: \(name)"
        case .unsupportedDecoder(let name):
            "unsupported decoder: \(name)"
        case .unsupportedPostProcessor(let name):
            "unsupported post-processor: \(name)"
        }
    }
}
