import ModelLoading

/// Reading a tokenizer from GGUF metadata (llama.cpp's `tokenizer.ggml.*` keys), built the way
/// transformers converts it (`integrations/gguf`): `gpt2` is byte-level BPE with the split of
/// `tokenizer.ggml.pre`, `llama` is SentencePiece-style BPE whose merges follow the token scores.
extension TokenizerConfiguration {
    /// GGUF token types.
    private enum TokenType: Int {
        case normal = 1, unknown, control, userDefined, unused, byte
    }

    init(ggufMetadata metadata: [String: GGUFValue]) throws {
        func value(_ key: String) throws -> GGUFValue {
            guard let value = metadata[key] else { throw TokenizerError.missingKey(source: "GGUF metadata", key: key) }
            return value
        }
        guard let modelName = try value("tokenizer.ggml.model").string else {
            throw TokenizerError.malformed(source: "GGUF metadata", reason: "tokenizer.ggml.model is not a string")
        }
        guard let originalTokens = try value("tokenizer.ggml.tokens").strings else {
            throw TokenizerError.malformed(source: "GGUF metadata", reason: "tokenizer.ggml.tokens is not an array of strings")
        }
        guard originalTokens.count <= Self.maxVocabularySize else {
            throw TokenizerError.malformed(source: "GGUF metadata", reason: "tokenizer.ggml.tokens has \(originalTokens.count) tokens, more than the \(Self.maxVocabularySize) Tern takes")
        }
        /// The id under `key`, nil if absent; an id outside the token list is an error.
        func tokenID(_ key: String) throws -> Int32? {
            guard let value = metadata[key] else { return nil }
            guard let id = value.int, originalTokens.indices.contains(id) else {
                throw TokenizerError.malformed(
                    source: "GGUF metadata", reason: "\(key) is \(value), outside the vocabulary (0..<\(originalTokens.count))")
            }
            return Int32(id)
        }
        var tokens = originalTokens
        let types = (metadata["tokenizer.ggml.token_type"]?.ints ?? []).map { TokenType(rawValue: $0) ?? .normal }
        func type(_ id: Int) -> TokenType { id < types.count ? types[id] : .normal }
        let unknownID = try tokenID("tokenizer.ggml.unknown_token_id")

        var addedTokens: [AddedToken] = []
        let addBOS: Bool
        switch modelName {
        case "gpt2":
            // transformers respells tokens written outside the byte alphabet in it, and adds as
            // whole-matched tokens only control and user-defined tokens spelled in the alphabet.
            for (id, token) in tokens.enumerated() where !ByteLevelAlphabet.isSpelled(token) {
                tokens[id] = ByteLevelAlphabet.spell(token)
            }
            for (id, token) in originalTokens.enumerated() where type(id) == .control || type(id) == .userDefined {
                if ByteLevelAlphabet.isSpelled(token) {
                    addedTokens.append(AddedToken(id: Int32(id), content: token, special: type(id) == .control))
                }
            }
            guard let mergeLines = try value("tokenizer.ggml.merges").strings else {
                throw TokenizerError.malformed(source: "GGUF metadata", reason: "tokenizer.ggml.merges is not an array of strings")
            }
            let merges = try mergeLines.map { line -> (String, String) in
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError.malformed(source: "GGUF metadata", reason: "merge \"\(line)\" is not a pair of tokens")
                }
                return (String(parts[0]), String(parts[1]))
            }
            let (preTokenizer, ignoreMerges) = try Self.byteLevelPreTokenizer(metadata["tokenizer.ggml.pre"]?.string)
            self.init(
                model: try BPEModel(
                    tokens: tokens, merges: .ranked(merges), isByteLevel: true, byteFallback: false,
                    unknownID: unknownID, fuseUnknown: false, ignoreMerges: ignoreMerges))
            self.preTokenizer = preTokenizer
            decoder = .byteLevel
            addBOS = metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false
        case "llama":
            guard var scores = try value("tokenizer.ggml.scores").floats, scores.count == tokens.count else {
                throw TokenizerError.malformed(source: "GGUF metadata", reason: "tokenizer.ggml.scores does not give one score per token")
            }
            let architecture = metadata["general.architecture"]?.string ?? ""
            if ["gemma", "gemma2", "gemma3"].contains(architecture) {
                // As transformers' gemma_tokenizer: runs of spaces are spelled with `▁` like the
                // rest of the vocabulary, and merges follow the file order, not the scores.
                for (id, token) in tokens.enumerated() where Self.isSpaceRun(token) {
                    tokens[id] = String(repeating: "▁", count: token.unicodeScalars.count)
                }
                scores = tokens.indices.map { -Float($0) }
            }
            // Control tokens are matched whole, and user-defined ones still in the vocabulary as
            // written (not the respelled runs of spaces).
            let vocabulary = Set(tokens.map(TokenKey.init))
            for (id, token) in originalTokens.enumerated() where type(id) == .control || type(id) == .userDefined {
                if type(id) == .control || vocabulary.contains(TokenKey(token)) {
                    addedTokens.append(AddedToken(id: Int32(id), content: token, special: type(id) == .control))
                }
            }
            let addSpacePrefix = metadata["tokenizer.ggml.add_space_prefix"]?.bool ?? true
            self.init(
                model: try BPEModel(
                    tokens: tokens, merges: .scored(scores), isByteLevel: false, byteFallback: true,
                    unknownID: unknownID, fuseUnknown: true, ignoreMerges: false))
            preTokenizer = .metaspace(replacement: "▁", prependScheme: addSpacePrefix ? .first : .never, split: false)
            let strip: [TokenDecoder] = addSpacePrefix ? [.strip(content: " ", start: 1, stop: 0)] : []
            decoder = .sequence([.replace(pattern: "▁", content: " "), .byteFallback, .fuse] + strip)
            addBOS = metadata["tokenizer.ggml.add_bos_token"]?.bool ?? true
        default:
            throw TokenizerError.unsupportedModel("GGUF tokenizer.ggml.model \(modelName)")
        }
        // transformers also makes the tokens the metadata names (BOS, EOS, unknown, padding)
        // special added tokens.
        for key in ["bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id"] {
            // A padding id past the tokens (some converters write the vocabulary size) is unused.
            if key == "padding_token_id", metadata["tokenizer.ggml.padding_token_id"]?.int.map(originalTokens.indices.contains) != true { continue }
            guard let id = try tokenID("tokenizer.ggml.\(key)") else { continue }
            if let index = addedTokens.firstIndex(where: { $0.id == id }) {
                addedTokens[index].special = true
            } else {
                addedTokens.append(AddedToken(id: id, content: originalTokens[Int(id)], special: true))
            }
        }
        self.addedTokens = addedTokens
        bosTokenID = try tokenID("tokenizer.ggml.bos_token_id")
        eosTokenID = try tokenID("tokenizer.ggml.eos_token_id")
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try tokenID(key) { eosTokenIDs.insert(id) }
        }
        for token in addedTokens where token.special && Self.endOfGenerationNames.contains(token.content) {
            eosTokenIDs.insert(token.id)
        }
        setSpecialTokens(addBOS: addBOS, addEOS: metadata["tokenizer.ggml.add_eos_token"]?.bool ?? false)
        chatTemplate = metadata["tokenizer.chat_template"]?.string
        try validate(source: "GGUF metadata")
    }

    /// A token of nothing but whitespace with at least one space in it, as Python's
    /// `" " in t and not t.strip()` sees it.
    private static func isSpaceRun(_ token: String) -> Bool {
        token.unicodeScalars.contains(" ")
            && token.unicodeScalars.allSatisfy { $0.properties.isWhitespace || (0x1C...0x1F).contains($0.value) }
    }

    /// The pre-tokenizer a GGUF's `tokenizer.ggml.pre` names (llama.cpp's names), and whether
    /// whole-piece tokens skip the merges (Llama 3). Here Tern follows llama.cpp and the models'
    /// own tokenizer.json where transformers' converter is coarser: it splits `smollm` text with
    /// GPT-2's pattern alone (no digit split) and leaves Llama 3's merges unskipped.
    private static func byteLevelPreTokenizer(_ name: String?) throws -> (PreTokenizer, ignoreMerges: Bool) {
        let byteLevel = PreTokenizer.byteLevel(addPrefixSpace: false, useRegex: false)
        func split(_ pattern: SplitPattern) -> PreTokenizer {
            .sequence([.split(.regex(pattern), behavior: .isolated, invert: false), byteLevel])
        }
        switch name ?? "default" {
        case "default", "gpt2", "gpt-2":
            return (.byteLevel(addPrefixSpace: false, useRegex: true), false)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral":
            return (split(.llama3), true)
        case "smaug-bpe", "dbrx":
            return (split(.llama3), false)
        case "qwen2", "deepseek-r1-qwen", "megrez":
            return (split(.qwen2), false)
        case "smollm":
            return (.sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)]), false)
        case let other:
            throw TokenizerError.unsupportedPreTokenizer("GGUF tokenizer.ggml.pre \(other)")
        }
    }
}
