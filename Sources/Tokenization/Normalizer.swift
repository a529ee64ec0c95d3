import Foundation

/// The text normalizers of tokenizer.json that Tern implements: what Llama 2 (`Prepend` +
/// `Replace`), Gemma (`Replace`) and Qwen2 (`NFC`) use. Applied to each stretch of text between
/// added tokens, as HF does.
indirect enum Normalizer: Sendable, Equatable {
    case sequence([Normalizer])
    /// Puts `prefix` in front of non-empty text.
    case prepend(String)
    /// Replaces every occurrence of a literal string.
    case replace(pattern: String, content: String)
    /// Unicode canonical composition.
    case nfc

    func apply(_ text: String) -> String {
        switch self {
        case .sequence(let steps):
            steps.reduce(text) { $1.apply($0) }
        case .prepend(let prefix):
            text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content):
            text.replacingScalars(of: pattern, with: content)
        case .nfc:
            text.precomposedStringWithCanonicalMapping
        }
    }

    /// The normalizer a tokenizer.json `normalizer` object describes.
    init(json: TokenizerJSON) throws {
        let type = json["type"]?.string ?? "(no type)"
        switch type {
        case "Sequence":
            guard let steps = json["normalizers"]?.array else {
                throw TokenizerError.malformed(source: "tokenizer.json", reason: "Sequence normalizer without normalizers")
            }
            self = .sequence(try steps.map(Normalizer.init(json:)))
        case "Prepend":
            guard let prefix = json["prepend"]?.string else {
                throw TokenizerError.malformed(source: "tokenizer.json", reason: "Prepend normalizer without prepend")
            }
            self = .prepend(prefix)
        case "Replace":
            let (pattern, content) = try literalReplacement(json, kind: "normalizer")
            self = .replace(pattern: pattern, content: content)
        case "NFC":
            self = .nfc
        default:
            throw TokenizerError.unsupportedNormalizer(type)
        }
    }
}

/// The literal pattern and replacement of a `Replace` normalizer or decoder; a regex pattern is
/// not supported.
func literalReplacement(_ json: TokenizerJSON, kind: String) throws -> (pattern: String, content: String) {
    guard let content = json["content"]?.string, let pattern = json["pattern"] else {
        throw TokenizerError.malformed(source: "tokenizer.json", reason: "Replace \(kind) without pattern or content")
    }
    guard let literal = pattern["String"]?.string else {
        let regex = pattern["Regex"]?.string ?? "?"
        if kind == "decoder" { throw TokenizerError.unsupportedDecoder("Replace with regex \(regex)") }
        throw TokenizerError.unsupportedNormalizer("Replace with regex \(regex)")
    }
    return (literal, content)
}
