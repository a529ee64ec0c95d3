import EngineCore
import Foundation
import Logging
import Testing

@testable import Engine

/// Damaged model files, made from the seeds of scripts/make_fuzz_fixtures.py: every one must
/// give a one-line error naming the file, or load into a model that runs. A trap, a hang or a
/// huge allocation fails the whole test process, which is the point.
@Suite(.serialized) struct ModelFileFuzzTests {
    static var seeds: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("fuzz")
    }

    /// What loading `path` did: nil if it loaded and generated (or the engine refused to run it,
    /// e.g. a context too small for the prompt, which is a request error), else the load error.
    static func outcome(_ path: String) -> String? {
        var options = LoadOptions()
        options.threads = 1
        options.kvCacheBytes = 1 << 20
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        let model: LoadedModel
        do {
            model = try LoadedModel(path, options: options, logger: logger)
        } catch {
            return "\(error)"
        }
        do {
            let llm = try LLM(model: model)
            let prompt = model.tokenizer.encode("hi the", addSpecialTokens: true)
            _ = try llm.generate([prompt.isEmpty ? [1] : prompt], params: .greedy(maxTokens: 3))
        } catch {
            #expect(!"\(error)".contains("\n"), "\(error)")
        }
        return nil
    }

    /// Records an issue unless loading `path` succeeded or failed with one line that names it.
    static func expectCleanOutcome(_ path: String, case label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let message = outcome(path) else { return }
        let named = message.contains(URL(fileURLWithPath: path).lastPathComponent) || message.contains(path)
        #expect(named && !message.contains("\n"), "\(label): \(message)", sourceLocation: sourceLocation)
    }

    /// Runs `body` with a scratch folder that is removed afterwards.
    static func withScratch(_ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tern-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder)
    }

    @Test func seedsLoadAndRun() {
        #expect(Self.outcome(Self.seeds.appendingPathComponent("tiny.gguf").path) == nil)
        #expect(Self.outcome(Self.seeds.appendingPathComponent("tiny-hf").path) == nil)
    }

    // MARK: GGUF

    /// GGUF value types by their fixed payload size: what an in-place value may become.
    static let extremes: [(type: UInt32, bytes: [UInt8], label: String)] = [
        (4, le(UInt32.max), "u32 max"), (4, le(UInt32(0)), "u32 0"), (4, le(UInt32(1)), "u32 1"),
        (4, le(UInt32(1000)), "u32 1000"), (4, le(UInt32(1 << 31)), "u32 2^31"), (4, le(UInt32(7)), "u32 7"),
        (5, le(Int32.min), "i32 min"), (5, le(Int32(-1)), "i32 -1"),
        (6, le(Float.nan.bitPattern), "f32 nan"), (6, le(Float.infinity.bitPattern), "f32 inf"),
        (6, le(Float(-1).bitPattern), "f32 -1"), (6, le(Float(0).bitPattern), "f32 0"),
    ]

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

    /// Where the value type of metadata `key` sits (the payload follows it).
    static func typeOffset(of key: String, in bytes: [UInt8]) -> Int? {
        let needle = le(UInt64(key.utf8.count)) + Array(key.utf8)
        guard let start = bytes.firstRange(of: needle)?.lowerBound else { return nil }
        return start + needle.count
    }

    @Test func metadataValuesAtTheirExtremes() throws {
        let seed = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent("tiny.gguf")))
        let keys = [
            "llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
            "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
            "llama.vocab_size", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
            "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon",
        ]
        try Self.withScratch { folder in
            for key in keys {
                let offset = try #require(Self.typeOffset(of: key, in: seed), "\(key) not in the seed")
                for extreme in Self.extremes {
                    var bytes = seed
                    bytes.replaceSubrange(offset..<offset + 4, with: Self.le(extreme.type))
                    bytes.replaceSubrange(offset + 4..<offset + 8, with: extreme.bytes)
                    let path = folder.appendingPathComponent("meta.gguf").path
                    try Data(bytes).write(to: URL(fileURLWithPath: path))
                    Self.expectCleanOutcome(path, case: "\(key) = \(extreme.label)")
                }
            }
        }
    }

    @Test func outOfRangeIdsAndDimensionsAreNamed() throws {
        let seed = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent("tiny.gguf")))
        let cases: [(String, UInt32, String)] = [
            ("tokenizer.ggml.eos_token_id", UInt32.max, "tokenizer.ggml.eos_token_id"),
            ("tokenizer.ggml.eos_token_id", 64, "tokenizer.ggml.eos_token_id"),
            ("tokenizer.ggml.bos_token_id", 1_000_000, "tokenizer.ggml.bos_token_id"),
            ("llama.rope.dimension_count", 0, "rope.dimension_count"),
            ("llama.rope.dimension_count", 1000, "rope.dimension_count"),
        ]
        try Self.withScratch { folder in
            for (key, value, named) in cases {
                var bytes = seed
                let offset = try #require(Self.typeOffset(of: key, in: seed))
                bytes.replaceSubrange(offset + 4..<offset + 8, with: Self.le(value))
                let path = folder.appendingPathComponent("ids.gguf").path
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let message = try #require(Self.outcome(path), "\(key) = \(value) was accepted")
                #expect(message.contains(named) && message.hasPrefix(path), "\(message)")
            }
        }
    }

    @Test func overlappingTensorsAreRefused() throws {
        let seed = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent("tiny.gguf")))
        // The tensor info of blk.0.attn_k.weight: name, n_dims (2), two dims, type, then its offset.
        let name = "blk.0.attn_k.weight"
        let needle = Self.le(UInt64(name.utf8.count)) + Array(name.utf8)
        let start = try #require(seed.firstRange(of: needle)?.upperBound)
        let offsetAt = start + 4 + 2 * 8 + 4
        try Self.withScratch { folder in
            var bytes = seed
            bytes.replaceSubrange(offsetAt..<offsetAt + 8, with: Self.le(UInt64(0)))
            let path = folder.appendingPathComponent("overlap.gguf").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let message = try #require(Self.outcome(path))
            #expect(message.contains("overlaps"), "\(message)")
        }
    }

    @Test func truncationsAndFlippedBytes() throws {
        let seed = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent("tiny.gguf")))
        var generator = SplitMix64(seed: 20261204)
        try Self.withScratch { folder in
            let path = folder.appendingPathComponent("damaged.gguf").path
            for cut in stride(from: 0, to: seed.count, by: 53) {
                try Data(seed[..<cut]).write(to: URL(fileURLWithPath: path))
                Self.expectCleanOutcome(path, case: "cut at \(cut)")
            }
            // The header (metadata and tensor infos) is the first ~2.5 KB; flips there reach the parsers.
            for round in 0..<300 {
                var bytes = seed
                for _ in 0...(round % 4) {
                    let limit = round % 3 == 0 ? bytes.count : min(bytes.count, 2600)
                    let index = Int(generator.next() % UInt64(limit))
                    bytes[index] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
                }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                Self.expectCleanOutcome(path, case: "flip round \(round)")
            }
        }
    }

    // MARK: Hugging Face folders

    /// A copy of the HF seed in `folder` with `edit` applied to one of its JSON files.
    static func editedFolder(_ folder: URL, file: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let copy = folder.appendingPathComponent("model-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: seeds.appendingPathComponent("tiny-hf"), to: copy)
        let url = copy.appendingPathComponent(file)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return copy.path
    }

    @Test func configValuesAtTheirExtremes() throws {
        let keys = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "max_position_embeddings", "bos_token_id", "eos_token_id",
                    "rms_norm_eps", "rope_theta"]
        let values: [Any] = [Int64.max, Int64.min, -1, 0, 1, 1_000_000_000, Double.greatestFiniteMagnitude, 1e-300,
                             "12", NSNull(), [Int64.max], ["a": 1]]
        try Self.withScratch { folder in
            for key in keys {
                for value in values {
                    let path = try Self.editedFolder(folder, file: "config.json") { $0[key] = value }
                    Self.expectCleanOutcome(path, case: "config \(key) = \(value)")
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
        }
    }

    @Test func tokenizerIdsFarOutsideTheVocabulary() throws {
        try Self.withScratch { folder in
            let hugeVocabularyID = try Self.editedFolder(folder, file: "tokenizer.json") { json in
                var model = json["model"] as! [String: Any]
                var vocab = model["vocab"] as! [String: Any]
                vocab["zz"] = 1_000_000_000
                model["vocab"] = vocab
                json["model"] = model
            }
            let message = try #require(Self.outcome(hugeVocabularyID))
            #expect(message.contains("tokenizer") && message.contains("1000000000"), "\(message)")
            for value in [Int64.max, -5, 2_147_483_647] as [Int64] {
                let path = try Self.editedFolder(folder, file: "tokenizer.json") { json in
                    var model = json["model"] as! [String: Any]
                    var vocab = model["vocab"] as! [String: Any]
                    vocab["zz"] = value
                    model["vocab"] = vocab
                    json["model"] = model
                }
                Self.expectCleanOutcome(path, case: "vocab id \(value)")
            }
        }
    }

    @Test func safetensorsHeadersDamaged() throws {
        let seed = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent("tiny-hf/model.safetensors")))
        var generator = SplitMix64(seed: 7)
        try Self.withScratch { folder in
            let copy = folder.appendingPathComponent("model")
            try FileManager.default.copyItem(at: Self.seeds.appendingPathComponent("tiny-hf"), to: copy)
            let weights = copy.appendingPathComponent("model.safetensors")
            for cut in stride(from: 0, to: seed.count, by: 97) {
                try Data(seed[..<cut]).write(to: weights)
                Self.expectCleanOutcome(copy.path, case: "safetensors cut at \(cut)")
            }
            let headerLength = Int(seed[0]) | Int(seed[1]) << 8
            for round in 0..<200 {
                var bytes = seed
                let index = 8 + Int(generator.next() % UInt64(headerLength))
                bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                try Data(bytes).write(to: weights)
                Self.expectCleanOutcome(copy.path, case: "safetensors header flip \(round)")
            }
        }
    }

    // MARK: paths that are not regular files

    @Test func fifosAreRefusedNotWaitedOn() throws {
        try Self.withScratch { folder in
            let fifo = folder.appendingPathComponent("model.gguf").path
            #expect(mkfifo(fifo, 0o600) == 0)
            let message = try #require(Self.outcome(fifo))
            #expect(message.contains("not a regular file"), "\(message)")

            let copy = folder.appendingPathComponent("hf")
            try FileManager.default.copyItem(at: Self.seeds.appendingPathComponent("tiny-hf"), to: copy)
            for name in ["config.json", "tokenizer.json", "model.safetensors"] {
                let file = copy.appendingPathComponent(name).path
                try FileManager.default.moveItem(atPath: file, toPath: file + ".orig")
                #expect(mkfifo(file, 0o600) == 0)
                let message = try #require(Self.outcome(copy.path), "\(name) as a FIFO was accepted")
                #expect(message.contains("not a regular file"), "\(name): \(message)")
                try FileManager.default.removeItem(atPath: file)
                try FileManager.default.moveItem(atPath: file + ".orig", toPath: file)
            }
        }
    }
}
