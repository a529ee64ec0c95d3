import EngineCore
import Testing

/// vLLM's bad-words rule: a one-token word is always banned; a longer word's last token only
/// where the output ends with the word's other tokens.
struct BadWordsTests {
    @Test func bansFollowTheOutputsTail() {
        var params = SamplingParams()
        params.badWordsTokenIDs = [[7], [3, 4, 5], [9, 9]]
        #expect(params.badWordBans(after: []) == [7])
        #expect(params.badWordBans(after: [1, 3, 4]) == [7, 5])
        #expect(params.badWordBans(after: [3, 4, 1]) == [7])
        #expect(params.badWordBans(after: [9]) == [7, 9])
    }

    @Test func allowedAndBadWordTokensAreRangeChecked() {
        var params = SamplingParams()
        params.allowedTokenIDs = []
        #expect(throws: InvalidSamplingParams.self) { try params.validate(vocabularySize: 10) }
        params.allowedTokenIDs = [3, 10]
        #expect(throws: InvalidSamplingParams.self) { try params.validate(vocabularySize: 10) }
        params.allowedTokenIDs = [3]
        params.badWordsTokenIDs = [[1, 12]]
        #expect(throws: InvalidSamplingParams.self) { try params.validate(vocabularySize: 10) }
        params.badWordsTokenIDs = [[1, 2]]
        #expect(throws: Never.self) { try params.validate(vocabularySize: 10) }
    }
}
