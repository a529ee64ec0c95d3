import Testing

@testable import EngineCore

struct SamplingParamsTests {
    private func message(_ params: SamplingParams, vocabularySize: Int = 100) -> String? {
        do {
            try params.validate(vocabularySize: vocabularySize)
            return nil
        } catch let error as InvalidSamplingParams {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func defaultsAreValid() {
        #expect(message(SamplingParams()) == nil)
        #expect(message(.greedy(maxTokens: nil)) == nil)
        #expect(SamplingParams.greedy().isGreedy)
        #expect(SamplingParams(topK: -1).effectiveTopK == nil)
        #expect(SamplingParams(topK: 0).effectiveTopK == nil)
        #expect(SamplingParams(topK: 5).effectiveTopK == 5)
    }

    @Test(arguments: [
        (SamplingParams(n: 0), "n must be >= 1, got 0"),
        (SamplingParams(temperature: -1), "temperature must be >= 0, got -1"),
        (SamplingParams(temperature: .nan), "temperature must be >= 0, got nan"),
        (SamplingParams(topP: 0), "topP must be in (0, 1], got 0"),
        (SamplingParams(topP: 1.5), "topP must be in (0, 1], got 1.5"),
        (SamplingParams(topK: -2), "topK must be >= 1, or 0 or -1 to turn it off, got -2"),
        (SamplingParams(minP: 2), "minP must be in [0, 1], got 2"),
        (SamplingParams(presencePenalty: -3), "presencePenalty must be in [-2, 2], got -3"),
        (SamplingParams(frequencyPenalty: 2.5), "frequencyPenalty must be in [-2, 2], got 2.5"),
        (SamplingParams(repetitionPenalty: 0), "repetitionPenalty must be > 0, got 0"),
        (SamplingParams(logitBias: [100: 1]), "logitBias must be keyed by token ids in [0, 100), got token id 100"),
        (SamplingParams(logitBias: [3: 101]), "logitBias[3] must be in [-100, 100], got 101"),
        (SamplingParams(stop: ["a", ""]), "stop must be non-empty strings, got an empty string at index 1"),
        (SamplingParams(stopTokenIDs: [5, -1]), "stopTokenIDs must be token ids in [0, 100), got -1"),
        (SamplingParams(maxTokens: 0), "maxTokens must be >= 1, got 0"),
        (SamplingParams(minTokens: -1), "minTokens must be >= 0, got -1"),
        (SamplingParams(maxTokens: 4, minTokens: 5), "minTokens must be <= maxTokens (4), got 5"),
        (SamplingParams(logprobs: 21), "logprobs must be in [0, 20], got 21"),
        (SamplingParams(promptLogprobs: -1), "promptLogprobs must be in [0, 20], got -1"),
    ])
    func outOfRangeFieldIsNamed(params: SamplingParams, expected: String) {
        #expect(message(params) == expected)
    }

    @Test func errorCarriesTheField() throws {
        let error = try #require(throws: InvalidSamplingParams.self) {
            try SamplingParams(topP: 0).validate(vocabularySize: 10)
        }
        #expect(error.field == "topP")
    }

    @Test func logprobLimitIsConfigurable() throws {
        try SamplingParams(logprobs: 50).validate(vocabularySize: 100, maxLogprobs: 64)
        #expect(throws: InvalidSamplingParams.self) {
            try SamplingParams(logprobs: 65).validate(vocabularySize: 100, maxLogprobs: 64)
        }
    }
}
