import Foundation
import Testing

import ModelLoading

@Suite struct HFModelFolderTests {
    @Test func readsTheShardedFixtureFolder() throws {
        let reference = try Fixtures.reference("sharded.json")
        let config = try #require(reference["config"] as? [String: Any])
        let model = try HFModelFolder(path: Fixtures.path("sharded"))
        #expect(model.isSharded)
        #expect(model.weightsPath.hasSuffix("/model.safetensors.index.json"))
        #expect(model.configPath.hasSuffix("/config.json"))
        #expect(model.tokenizerPath == nil && model.tokenizerConfigPath == nil)
        #expect(model.architectures == config["architectures"] as? [String])
        #expect(model.modelType == "llama")
        #expect(model.config["hidden_size"]?.int == config["hidden_size"] as? Int)
        #expect(model.config["rms_norm_eps"]?.double == config["rms_norm_eps"] as? Double)
        #expect(model.config["tie_word_embeddings"]?.bool == false)
        #expect(model.config["bos_token_id"] == .null)
        #expect(model.config["name"]?.string == "fixture ✓")
        #expect(model.configData == (try Data(contentsOf: URL(fileURLWithPath: model.configPath))))
        #expect(try model.generationConfig()?["temperature"]?.double == 0.6)
        #expect(try model.tokenizerConfig() == nil)
        let weights = try model.openWeights()
        #expect(weights.tensorNames.count == 6)
        #expect(try weights.tensor("lm_head.weight").shape == [16, 8])
    }

    @Test func singleFileFolderWithTokenizerFiles() throws {
        let folder = try TemporaryFolder()
        try folder.copy(fixture: "sharded/config.json", as: "config.json")
        try folder.copy(fixture: "single.safetensors", as: "model.safetensors")
        try folder.write("tokenizer.json", text: "{}")
        try folder.write("tokenizer_config.json", text: #"{"add_bos_token": true}"#)
        let model = try HFModelFolder(path: folder.path)
        #expect(!model.isSharded)
        #expect(model.weightsPath == folder.path + "/model.safetensors")
        #expect(model.tokenizerPath == folder.path + "/tokenizer.json")
        #expect(try model.tokenizerConfig()?["add_bos_token"]?.bool == true)
        #expect(model.generationConfigPath == nil)
        #expect(try model.openWeights().contains("embed.weight"))
    }

    @Test func missingFilesAreNamed() throws {
        let folder = try TemporaryFolder()
        expectLoadError(.missingFile, path: folder.path, containing: ["no config.json", "not a Hugging Face model folder"]) {
            try HFModelFolder(path: folder.path)
        }
        try folder.write("config.json", text: "{}")
        expectLoadError(.missingFile, path: folder.path,
                        containing: ["no weights: expected model.safetensors or model.safetensors.index.json"]) {
            try HFModelFolder(path: folder.path)
        }
        expectLoadError(.unreadable, path: folder.path + "/config.json", containing: ["not a folder"]) {
            try HFModelFolder(path: folder.path + "/config.json")
        }
    }

    @Test func malformedConfig() throws {
        let folder = try TemporaryFolder()
        try folder.copy(fixture: "single.safetensors", as: "model.safetensors")
        let config = try folder.write("config.json", text: #"{"hidden_size": 8,}"#)
        expectLoadError(.malformed, path: config, containing: ["invalid JSON at byte 18", "expected a member name"]) {
            try HFModelFolder(path: folder.path)
        }
        try folder.write("config.json", text: "[]")
        expectLoadError(.malformed, path: config, containing: ["is a JSON array, not an object"]) {
            try HFModelFolder(path: folder.path)
        }
        try folder.write("config.json", text: "{}")
        let generation = try folder.write("generation_config.json", text: "{\"temperature\": 0.6")
        let model = try HFModelFolder(path: folder.path)
        expectLoadError(.malformed, path: generation, containing: ["expected ',' or '}'"]) { try model.generationConfig() }
    }
}
