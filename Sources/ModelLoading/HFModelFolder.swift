import Foundation

/// A Hugging Face model folder as `save_pretrained` or `huggingface-cli download` leave it:
/// `config.json` (required), safetensors weights (`model.safetensors`, or
/// `model.safetensors.index.json` and its shards; required), and optionally `tokenizer.json`,
/// `tokenizer_config.json` and `generation_config.json`.
///
/// Opening reads and parses config.json and finds the other files; the weights are mapped only
/// by `openWeights()`.
public struct HFModelFolder: Sendable {
    /// The folder as given.
    public let path: String
    public let configPath: String
    /// `model.safetensors`, or `model.safetensors.index.json` for a sharded checkpoint.
    public let weightsPath: String
    public let tokenizerPath: String?
    public let tokenizerConfigPath: String?
    public let generationConfigPath: String?
    /// config.json's bytes, for decoders of their own (e.g. a `Codable` configuration).
    public let configData: Data
    /// config.json parsed.
    public let config: JSONValue

    /// Finds the files in the folder at `path` and parses config.json. Throws `.missingFile`
    /// naming the folder when config.json or the weights are absent, `.malformed` when
    /// config.json is not a JSON object.
    public init(path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ModelLoadError(path: path, kind: .unreadable, "not a folder")
        }
        func file(_ name: String) -> String? {
            let candidate = (path as NSString).appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
        }
        guard let configPath = file("config.json") else {
            throw ModelLoadError(
                path: path, kind: .missingFile, "no config.json: not a Hugging Face model folder")
        }
        guard let weightsPath = file("model.safetensors") ?? file("model.safetensors.index.json") else {
            throw ModelLoadError(
                path: path, kind: .missingFile,
                "no weights: expected model.safetensors or model.safetensors.index.json")
        }
        let configData = try Self.read(configPath)
        let config = try Self.parse(configData, path: configPath)
        guard config.object != nil else {
            throw ModelLoadError.malformed(configPath, "is a JSON \(config.kindName), not an object")
        }
        self.path = path
        self.configPath = configPath
        self.weightsPath = weightsPath
        self.tokenizerPath = file("tokenizer.json")
        self.tokenizerConfigPath = file("tokenizer_config.json")
        self.generationConfigPath = file("generation_config.json")
        self.configData = configData
        self.config = config
    }

    /// Whether the weights are split over shards listed by an index.
    public var isSharded: Bool { weightsPath.hasSuffix(".json") }

    /// config.json's `architectures` (e.g. `["LlamaForCausalLM"]`), empty when absent.
    public var architectures: [String] { config["architectures"]?.strings ?? [] }

    /// config.json's `model_type` (e.g. `"llama"`).
    public var modelType: String? { config["model_type"]?.string }

    /// Maps the weights (every shard, once).
    public func openWeights() throws -> SafetensorsStore {
        try SafetensorsStore(path: weightsPath)
    }

    /// tokenizer_config.json parsed, or nil when the folder has none.
    public func tokenizerConfig() throws -> JSONValue? {
        try tokenizerConfigPath.map { try Self.parse(Self.read($0), path: $0) }
    }

    /// generation_config.json parsed, or nil when the folder has none.
    public func generationConfig() throws -> JSONValue? {
        try generationConfigPath.map { try Self.parse(Self.read($0), path: $0) }
    }

    private static func read(_ path: String) throws -> Data {
        Data(try MappedFile.contents(of: path))
    }

    private static func parse(_ data: Data, path: String) throws -> JSONValue {
        do {
            return try JSONValue(parsing: data)
        } catch {
            throw ModelLoadError.malformed(path, "\(error)")
        }
    }
}
