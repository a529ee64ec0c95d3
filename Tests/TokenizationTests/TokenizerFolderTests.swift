import Foundation
import Testing
import Tokenization

/// Loading from model folders: the companion files, the public lookups, and the errors for what
/// Tern does not support.
@Suite("Model folders")
struct TokenizerFolderTests {
    /// A tiny byte-level tokenizer.json with `changes` applied to its top-level JSON.
    static func tokenizerJSON(_ changes: [String: String] = [:]) -> String {
        var parts = [
            "model": #"{"type":"BPE","vocab":{"<s>":0,"</s>":1,"<|end|>":2,"a":3,"b":4,"Ġ":5,"ab":6,"Ġab":7},"merges":["a b","Ġ ab"]}"#,
            "added_tokens": #"[{"id":0,"content":"<s>","special":true,"normalized":false},{"id":1,"content":"</s>","special":true,"normalized":false},{"id":2,"content":"<|end|>","special":true,"normalized":false}]"#,
            "pre_tokenizer": #"{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}"#,
            "decoder": #"{"type":"ByteLevel"}"#,
            "post_processor": "null",
            "normalizer": "null",
        ]
        parts.merge(changes) { $1 }
        return "{" + parts.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    static func folder(_ tokenizerJSON: String, files: [String: String] = [:]) throws -> URL {
        let folder = try Fixtures.temporaryFolder(tokenizerJSON: tokenizerJSON)
        for (name, text) in files {
            try Data(text.utf8).write(to: folder.appendingPathComponent(name))
        }
        return folder
    }

    @Test("tokenizer_config, generation_config and chat_template.jinja are read")
    func companionFiles() throws {
        let tokenizer = try Tokenizer(folder: Self.folder(Self.tokenizerJSON(), files: [
            "tokenizer_config.json": #"{"bos_token":"<s>","eos_token":{"content":"</s>"},"add_bos_token":true}"#,
            "generation_config.json": #"{"eos_token_id":[1,2]}"#,
            "chat_template.jinja": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}",
        ]))
        #expect(tokenizer.addBOS && tokenizer.bosTokenID == 0 && tokenizer.bosToken == "<s>")
        #expect(tokenizer.eosToken == "</s>" && tokenizer.eosTokenIDs == [1, 2])
        #expect(tokenizer.encode("ab ab") == [0, 6, 7])
        #expect(tokenizer.encode("ab ab", addSpecialTokens: false) == [6, 7])
        #expect(tokenizer.chatTemplate == "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}")
        #expect(tokenizer.decode([0, 6, 7, 2]) == "<s>ab ab<|end|>")
        #expect(tokenizer.decode([0, 6, 7, 2], skipSpecialTokens: true) == "ab ab")
        #expect(tokenizer.vocabularySize == 8 && tokenizer.isSpecial(2) && !tokenizer.isSpecial(6))
        #expect(tokenizer.tokenID("Ġab") == 7 && tokenizer.tokenString(7) == "Ġab" && tokenizer.tokenString(99) == nil)
    }

    @Test("the committed SmolLM2 folder: template, BOS/EOS, special tokens")
    func smolLM2() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        #expect(tokenizer.bosToken == "<|im_start|>" && tokenizer.eosToken == "<|im_end|>")
        #expect(tokenizer.eosTokenIDs == [2] && !tokenizer.addBOS)
        #expect(tokenizer.chatTemplate?.hasPrefix("{% for message in messages %}") == true)
        #expect(tokenizer.encode("<|im_start|>user\nhi<|im_end|>") == [1, 4093, 198, 6004, 2])
        #expect(tokenizer.isSpecial(2) && tokenizer.tokenString(198) == "Ċ")
    }

    @Test("the committed SentencePiece folder adds BOS by its template")
    func tinySPM() throws {
        let tokenizer = try Fixtures.tokenizer("tiny_spm")
        #expect(tokenizer.addBOS && tokenizer.bosTokenID == 1 && tokenizer.eosTokenIDs == [2])
        #expect(tokenizer.encode("").isEmpty == false && tokenizer.encode("", addSpecialTokens: false).isEmpty)
        #expect(tokenizer.tokenString(3) == "<0x00>")
    }

    @Test("unsupported components are named in the error", arguments: [
        (["model": #"{"type":"WordPiece","vocab":{"a":0}}"#], TokenizerError.unsupportedModel("WordPiece")),
        (["model": #"{"type":"Unigram","vocab":[["a",0.0]]}"#], .unsupportedModel("Unigram")),
        (["pre_tokenizer": #"{"type":"Whitespace"}"#], .unsupportedPreTokenizer("Whitespace")),
        (["pre_tokenizer": #"{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated","invert":false}"#],
         .unsupportedPreTokenizer(#"Split with regex \w+"#)),
        (["pre_tokenizer": #"{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"},{"type":"Digits"}]}"#],
         .unsupportedPreTokenizer("ByteLevel followed by further pre-tokenizers")),
        (["normalizer": #"{"type":"Lowercase"}"#], .unsupportedNormalizer("Lowercase")),
        (["decoder": #"{"type":"WordPiece","prefix":"@@"}"#], .unsupportedDecoder("WordPiece")),
        (["post_processor": #"{"type":"RobertaProcessing"}"#], .unsupportedPostProcessor("RobertaProcessing")),
    ])
    func unsupported(_ changes: [String: String], _ error: TokenizerError) throws {
        let folder = try Self.folder(Self.tokenizerJSON(changes))
        #expect(throws: error) { try Tokenizer(folder: folder) }
    }

    @Test("missing and malformed files are reported with their names")
    func badFiles() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("tern-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(throws: TokenizerError.unreadableFile(path: empty.appendingPathComponent("tokenizer.json").path, reason: "no such file")) {
            try Tokenizer(folder: empty)
        }
        let truncated = try Self.folder(String(Self.tokenizerJSON().dropLast(3)))
        #expect {
            try Tokenizer(folder: truncated)
        } throws: { error in
            "\(error)".hasPrefix("malformed tokenizer data in tokenizer.json:")
        }
        let badMerge = try Self.folder(Self.tokenizerJSON([
            "model": #"{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}"#,
        ]))
        #expect(throws: TokenizerError.malformed(source: "merges", reason: #"merge "a b" makes a token not in the vocabulary"#)) {
            try Tokenizer(folder: badMerge)
        }
    }
}
