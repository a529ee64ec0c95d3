/// Reading HF tokenizers' tokenizer.json.
extension TokenizerConfiguration {
    init(tokenizerJSON json: TokenizerJSON) throws {
        guard let modelJSON = json["model"], modelJSON.members != nil else {
            throw TokenizerError.missingKey(source: "tokenizer.json", key: "model")
        }
        let preTokenizer = try Self.component(json["pre_tokenizer"], PreTokenizer.init(json:))
        if preTokenizer?.hasInnerByteLevel == true {
            throw TokenizerError.unsupportedPreTokenizer("ByteLevel followed by further pre-tokenizers")
        }
        let model = try Self.model(modelJSON, isByteLevel: preTokenizer?.isByteLevel ?? false)
        self.init(model: model)
        self.preTokenizer = preTokenizer
        normalizer = try Self.component(json["normalizer"], Normalizer.init(json:))
        decoder = try Self.component(json["decoder"], TokenDecoder.init(json:))
        // HF numbers added tokens itself, ignoring the ids written: an added token takes the id
        // its text has in the model's vocabulary (or among earlier added tokens), else the next
        // id after the vocabulary.
        var nextID = Int32(model.vocabularyCount)
        for entry in json["added_tokens"]?.array ?? [] {
            var token = try Self.addedToken(entry)
            if let earlier = addedTokens.first(where: { $0.content.utf8.elementsEqual(token.content.utf8) }) {
                token.id = earlier.id
                addedTokens.removeAll { $0.id == earlier.id }
            } else if let id = model.id(of: token.content) {
                token.id = id
            } else {
                token.id = nextID
                nextID += 1
            }
            addedTokens.append(token)
        }
        if let processor = json["post_processor"], processor.members != nil {
            (prefixIDs, suffixIDs) = try Self.template(processor)
        }
    }

    /// A component object, or nil where the file has none (absent or null).
    private static func component<T>(_ json: TokenizerJSON?, _ make: (TokenizerJSON) throws -> T) throws -> T? {
        guard let json, json.members != nil else { return nil }
        return try make(json)
    }

    private static func model(_ json: TokenizerJSON, isByteLevel: Bool) throws -> BPEModel {
        let type = json["type"]?.string ?? "BPE"
        guard type == "BPE" else { throw TokenizerError.unsupportedModel(type) }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = json[key]?.string, !affix.isEmpty {
                throw TokenizerError.unsupportedModel("BPE with \(key) \"\(affix)\"")
            }
        }
        if case .number(let dropout)? = json["dropout"], dropout > 0 {
            throw TokenizerError.unsupportedModel("BPE with dropout \(dropout)")
        }
        guard let vocab = json["vocab"]?.members else {
            throw TokenizerError.missingKey(source: "tokenizer.json", key: "model.vocab")
        }
        var largest = -1
        for member in vocab {
            guard let id = member.value.int, id >= 0, id < Int(Int32.max) else {
                throw TokenizerError.malformed(source: "tokenizer.json", reason: "vocabulary entry \(member.key) has no valid id")
            }
            largest = max(largest, id)
        }
        // The token list is indexed by id: ids far beyond the number of entries would make it huge.
        guard largest < vocab.count + maxAddedIDGap, largest < maxVocabularySize else {
            throw TokenizerError.malformed(
                source: "tokenizer.json",
                reason: "model.vocab has \(vocab.count) entries but ids up to \(largest); ids must be (nearly) dense")
        }
        var tokens = [String](repeating: "", count: largest + 1)
        for member in vocab { tokens[member.value.int!] = member.key }
        let merges = try (json["merges"]?.array ?? []).map(mergePair)
        var unknownID: Int32?
        if let unknown = json["unk_token"]?.string {
            guard let id = tokens.firstIndex(where: { $0.utf8.elementsEqual(unknown.utf8) }) else {
                throw TokenizerError.malformed(source: "tokenizer.json", reason: "unk_token \(unknown) is not in the vocabulary")
            }
            unknownID = Int32(id)
        }
        return try BPEModel(
            tokens: tokens, merges: .ranked(merges), isByteLevel: isByteLevel,
            byteFallback: json["byte_fallback"]?.bool ?? false, unknownID: unknownID,
            fuseUnknown: json["fuse_unk"]?.bool ?? false, ignoreMerges: json["ignore_merges"]?.bool ?? false)
    }

    /// A merge written as "left right" (older files) or as ["left", "right"].
    private static func mergePair(_ value: TokenizerJSON) throws -> (String, String) {
        if let pair = value.array, pair.count == 2, let left = pair[0].string, let right = pair[1].string {
            return (left, right)
        }
        if let text = value.string {
            let parts = text.split(separator: " ", omittingEmptySubsequences: false)
            if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
        }
        throw TokenizerError.malformed(source: "tokenizer.json", reason: "merge \(value.serialized) is not a pair of tokens")
    }

    private static func addedToken(_ json: TokenizerJSON) throws -> AddedToken {
        guard let id = json["id"]?.int, let content = json["content"]?.string, let id32 = Int32(exactly: id), id32 >= 0
        else {
            throw TokenizerError.malformed(source: "tokenizer.json", reason: "added token without id or content")
        }
        return AddedToken(
            id: id32, content: content, singleWord: json["single_word"]?.bool ?? false,
            lstrip: json["lstrip"]?.bool ?? false, rstrip: json["rstrip"]?.bool ?? false,
            normalized: json["normalized"]?.bool ?? true, special: json["special"]?.bool ?? false)
    }

    /// The special tokens a post-processor puts around a single sequence.
    private static func template(_ json: TokenizerJSON) throws -> (prefix: [Int32], suffix: [Int32]) {
        let type = json["type"]?.string ?? "(no type)"
        switch type {
        case "ByteLevel":
            // Adjusts offsets only.
            return ([], [])
        case "Sequence":
            var prefix: [Int32] = []
            var suffix: [Int32] = []
            for step in json["processors"]?.array ?? [] {
                let (stepPrefix, stepSuffix) = try template(step)
                prefix = stepPrefix + prefix
                suffix += stepSuffix
            }
            return (prefix, suffix)
        case "TemplateProcessing":
            guard let single = json["single"]?.array else {
                throw TokenizerError.malformed(source: "tokenizer.json", reason: "TemplateProcessing without single")
            }
            var prefix: [Int32] = []
            var suffix: [Int32] = []
            var seenSequence = false
            for item in single {
                if item["Sequence"] != nil {
                    seenSequence = true
                } else if let name = item["SpecialToken"]?["id"]?.string {
                    guard let ids = json["special_tokens"]?[name]?["ids"]?.array else {
                        throw TokenizerError.malformed(source: "tokenizer.json", reason: "template token \(name) has no ids")
                    }
                    let converted = ids.compactMap { $0.int.flatMap { Int32(exactly: $0) } }
                    if seenSequence { suffix += converted } else { prefix += converted }
                }
            }
            return (prefix, suffix)
        default:
            throw TokenizerError.unsupportedPostProcessor(type)
        }
    }
}

extension PreTokenizer {
    /// The pre-tokenizer a tokenizer.json `pre_tokenizer` object describes.
    init(json: TokenizerJSON) throws {
        let type = json["type"]?.string ?? "(no type)"
        switch type {
        case "Sequence":
            self = .sequence(try (json["pretokenizers"]?.array ?? []).map(PreTokenizer.init(json:)))
        case "ByteLevel":
            self = .byteLevel(
                addPrefixSpace: json["add_prefix_space"]?.bool ?? true, useRegex: json["use_regex"]?.bool ?? true)
        case "Digits":
            self = .digits(individual: json["individual_digits"]?.bool ?? false)
        case "Metaspace":
            let (replacement, scheme) = try metaspaceSettings(json)
            self = .metaspace(replacement: replacement, prependScheme: scheme, split: json["split"]?.bool ?? true)
        case "Split":
            let behaviorName = json["behavior"]?.string ?? "?"
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupportedPreTokenizer("Split with behavior \(behaviorName)")
            }
            let rule: SplitRule
            if let literal = json["pattern"]?["String"]?.string {
                rule = .literal(Array(literal.unicodeScalars))
            } else if let regex = json["pattern"]?["Regex"]?.string {
                guard let known = SplitPattern(regex: regex) else {
                    throw TokenizerError.unsupportedPreTokenizer("Split with regex \(regex)")
                }
                rule = .regex(known)
            } else {
                throw TokenizerError.malformed(source: "tokenizer.json", reason: "Split pre-tokenizer without pattern")
            }
            self = .split(rule, behavior: behavior, invert: json["invert"]?.bool ?? false)
        default:
            throw TokenizerError.unsupportedPreTokenizer(type)
        }
    }
}

extension TokenDecoder {
    /// The decoder a tokenizer.json `decoder` object describes.
    init(json: TokenizerJSON) throws {
        let type = json["type"]?.string ?? "(no type)"
        switch type {
        case "Sequence":
            self = .sequence(try (json["decoders"]?.array ?? []).map(TokenDecoder.init(json:)))
        case "ByteLevel":
            self = .byteLevel
        case "Replace":
            let (pattern, content) = try literalReplacement(json, kind: "decoder")
            self = .replace(pattern: pattern, content: content)
        case "ByteFallback":
            self = .byteFallback
        case "Fuse":
            self = .fuse
        case "Strip":
            guard let content = json["content"]?.string?.unicodeScalars.first else {
                throw TokenizerError.malformed(source: "tokenizer.json", reason: "Strip decoder without content")
            }
            self = .strip(content: content, start: json["start"]?.int ?? 0, stop: json["stop"]?.int ?? 0)
        case "Metaspace":
            let (replacement, scheme) = try metaspaceSettings(json)
            self = .metaspace(replacement: replacement, prependScheme: scheme)
        default:
            throw TokenizerError.unsupportedDecoder(type)
        }
    }
}

/// Metaspace's replacement and prepend scheme; older files give `add_prefix_space` instead.
private func metaspaceSettings(_ json: TokenizerJSON) throws -> (Unicode.Scalar, PreTokenizer.PrependScheme) {
    let replacementText = json["replacement"]?.string ?? "▁"
    guard replacementText.unicodeScalars.count == 1, let replacement = replacementText.unicodeScalars.first else {
        throw TokenizerError.malformed(source: "tokenizer.json", reason: "Metaspace replacement \(replacementText) is not one character")
    }
    if let name = json["prepend_scheme"]?.string {
        guard let scheme = PreTokenizer.PrependScheme(rawValue: name) else {
            throw TokenizerError.unsupportedPreTokenizer("Metaspace with prepend_scheme \(name)")
        }
        return (replacement, scheme)
    }
    return (replacement, json["add_prefix_space"]?.bool ?? true ? .always : .never)
}
