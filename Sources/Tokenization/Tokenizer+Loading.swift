import Foundation
import ModelLoading

extension Tokenizer {
    /// The tokenizer a GGUF file describes in its `tokenizer.ggml.*` metadata: `gpt2` (byte-level
    /// BPE split by `tokenizer.ggml.pre`: gpt2, llama-bpe, qwen2, smollm...) or `llama`
    /// (SentencePiece-style BPE merged by score, with byte fallback). Control and user-defined
    /// tokens are matched whole in text; BOS is added per `tokenizer.ggml.add_bos_token`.
    public convenience init(ggufMetadata: [String: GGUFValue]) throws {
        self.init(configuration: try TokenizerConfiguration(ggufMetadata: ggufMetadata))
    }

    /// The tokenizer of a Hugging Face model folder: tokenizer.json, with tokenizer_config.json
    /// (BOS/EOS names, `add_bos_token`/`add_eos_token`, chat template; or chat_template.jinja) and
    /// generation_config.json (further EOS ids) when present.
    public convenience init(folder: URL) throws {
        let tokenizerURL = folder.appendingPathComponent("tokenizer.json")
        guard let json = try Self.readJSON(tokenizerURL) else {
            throw TokenizerError.unreadableFile(path: tokenizerURL.path, reason: "no such file")
        }
        var configuration = try TokenizerConfiguration(tokenizerJSON: json)
        let config = try Self.readJSON(folder.appendingPathComponent("tokenizer_config.json")) ?? .object([])
        let generation = try Self.readJSON(folder.appendingPathComponent("generation_config.json")) ?? .object([])

        Self.addNamedSpecialTokens(config, to: &configuration)
        configuration.bosTokenID =
            Self.tokenName(config["bos_token"]).flatMap(configuration.id(of:))
            ?? generation["bos_token_id"]?.int.flatMap { Int32(exactly: $0) }
        let generationEOS = Self.ids(generation["eos_token_id"])
        configuration.eosTokenID = Self.tokenName(config["eos_token"]).flatMap(configuration.id(of:)) ?? generationEOS.first
        configuration.eosTokenIDs.formUnion(generationEOS)
        // transformers rebuilds the post-processor when the config states either flag.
        if config["add_bos_token"] != nil || config["add_eos_token"] != nil {
            configuration.setSpecialTokens(
                addBOS: config["add_bos_token"]?.bool ?? false, addEOS: config["add_eos_token"]?.bool ?? false)
        }
        configuration.chatTemplate = try Self.chatTemplate(config, folder: folder)
        try configuration.validate(source: folder.lastPathComponent)
        self.init(configuration: configuration)
    }

    /// A JSON file, or nil if the file does not exist.
    private static func readJSON(_ url: URL) throws -> TokenizerJSON? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try TokenizerJSON(parsing: try contents(of: url), source: url.lastPathComponent)
    }

    /// The bytes of a regular file (a FIFO or a device is refused, never waited on).
    private static func contents(of url: URL) throws -> [UInt8] {
        do {
            return try MappedFile.contents(of: url.path)
        } catch let error as ModelLoadError {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.message)
        }
    }

    /// A token named in tokenizer_config.json: a string or an AddedToken object.
    private static func tokenName(_ value: TokenizerJSON?) -> String? {
        value?.string ?? value?["content"]?.string
    }

    /// An id or a list of ids.
    private static func ids(_ value: TokenizerJSON?) -> [Int32] {
        if let id = value?.int { return Int32(exactly: id).map { [$0] } ?? [] }
        return (value?.array ?? []).compactMap { $0.int.flatMap { Int32(exactly: $0) } }
    }

    /// transformers makes every token the config names (BOS, EOS, UNK, PAD..., and the extra
    /// special tokens) a special added token, matched whole in text.
    private static func addNamedSpecialTokens(_ config: TokenizerJSON, to configuration: inout TokenizerConfiguration) {
        var names = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]
            .compactMap { tokenName(config[$0]) }
        for key in ["additional_special_tokens", "extra_special_tokens"] {
            names += (config[key]?.array ?? []).compactMap(tokenName)
        }
        for name in names {
            if let index = configuration.addedTokens.firstIndex(where: { $0.content.utf8.elementsEqual(name.utf8) }) {
                configuration.addedTokens[index].special = true
            } else if let id = configuration.model.id(of: name) {
                configuration.addedTokens.append(AddedToken(id: id, content: name, special: true))
            }
        }
    }

    /// The chat template: tokenizer_config.json's `chat_template` (a string, or named templates
    /// of which "default" is taken), else chat_template.jinja, else chat_template.json.
    private static func chatTemplate(_ config: TokenizerJSON, folder: URL) throws -> String? {
        if let template = config["chat_template"]?.string { return template }
        if let named = config["chat_template"]?.array {
            let chosen = named.first { $0["name"]?.string == "default" } ?? named.first
            return chosen?["template"]?.string
        }
        let jinja = folder.appendingPathComponent("chat_template.jinja")
        if FileManager.default.fileExists(atPath: jinja.path) {
            guard let text = String(validating: try contents(of: jinja), as: UTF8.self) else {
                throw TokenizerError.unreadableFile(path: jinja.path, reason: "not valid UTF-8")
            }
            return text
        }
        return try readJSON(folder.appendingPathComponent("chat_template.json"))?["chat_template"]?.string
    }
}
