import EngineCore

/// Checks shared by every way into the engine (offline, async, server).
public enum RequestValidation {
    /// Throws, naming the field, unless `promptTokenIDs` and `params` can run on a model
    /// with `vocabularySize` tokens.
    public static func validate(promptTokenIDs: [Int32], params: SamplingParams, vocabularySize: Int) throws {
        try params.validate(vocabularySize: vocabularySize)
        guard !promptTokenIDs.isEmpty else { throw EngineError("prompt: must contain at least one token") }
        if let bad = promptTokenIDs.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw EngineError("prompt: token id \(bad) is outside the vocabulary (0..<\(vocabularySize))")
        }
    }
}

extension SamplingParams {
    /// The parameters of completion `index` of `n`: each is its own request (they share
    /// the prompt's KV blocks through the prefix cache), and a seeded request gives each
    /// completion its own stream, so the `n` answers differ but stay reproducible.
    public func forCompletion(_ index: Int) -> SamplingParams {
        var params = self
        params.n = 1
        if let seed, index > 0 { params.seed = seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15 }
        return params
    }
}
