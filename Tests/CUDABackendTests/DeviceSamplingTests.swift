@testable import Engine
@testable import EngineCore
import Models
import Testing

/// The logit adjustments the device applies before sampling (bias, min-tokens masking,
/// penalties) must change the logits as the host sampler's processors do: applied in the
/// kernel's documented order, their argmax equals the host sampler's greedy token.
struct DeviceSamplingTests {
    /// `tern_adjust_logits` on the host: bias, mask, repetition, subtract, per entry.
    func applied(_ adjustments: [LogitAdjustment], to logits: [Float]) -> [Float] {
        var out = logits
        for a in adjustments {
            var v = out[Int(a.token)] + a.bias
            if a.masked { v = -.infinity }
            if a.repetition != 1 { v = v > 0 ? v / a.repetition : v * a.repetition }
            out[Int(a.token)] = v - a.subtract
        }
        return out
    }

    @Test func adjustmentsMatchTheHostSamplersProcessors() {
        var generator = SplitMix64(seed: 11)
        func uniform() -> Float { Float(generator.next() >> 40) / Float(1 << 24) }
        func token(_ vocabulary: Int) -> Int32 { Int32(generator.next() % UInt64(vocabulary)) }
        let vocabulary = 24
        var changed = 0
        for trial in 0..<400 {
            let prompt = (0..<(1 + trial % 9)).map { _ in token(vocabulary) }
            let output = (0..<(trial % 7)).map { _ in token(vocabulary) }
            var bias: [Int32: Float] = [:]
            for _ in 0..<(trial % 4) { bias[token(vocabulary), default: 0] += uniform() * 8 - 4 }
            let params = SamplingParams(
                temperature: 0, presencePenalty: [0, 0.7, -0.4][trial % 3], frequencyPenalty: [0, 0.3][trial / 3 % 2],
                repetitionPenalty: [1, 1.4, 0.7][trial / 6 % 3], logitBias: bias, stopTokenIDs: [5],
                minTokens: trial % 5)
            let state = Request(requestID: "r\(trial)", promptTokenIDs: prompt, samplingParams: params, eosTokenIDs: [2])
            for t in output { state.appendOutputToken(t) }
            // Logits near each other so that the adjustments decide the argmax.
            let logits = (0..<vocabulary).map { _ in uniform() * 2 - 1 }
            var adjustments: [LogitAdjustment] = []
            ModelRunner.appendAdjustments(&adjustments, row: 0, params: params, state: state, vocabulary: vocabulary)
            #expect(Set(adjustments.map(\.token)).count == adjustments.count, "one entry per token")
            let device = applied(adjustments, to: logits)
            let deviceToken = Int32(device.indices.max { device[$0] < device[$1] || (device[$0] == device[$1] && $0 > $1) }!)
            var sampler = Sampler()
            let hostToken = logits.withUnsafeBufferPointer { row in
                sampler.sample(logits: row, params: params,
                               history: .init(promptTokenIDs: prompt[...], outputTokenIDs: output[...], eosTokenIDs: [2]),
                               seed: 0)
            }
            #expect(deviceToken == hostToken, "trial \(trial)")
            let plain = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
            if plain != hostToken { changed += 1 }
        }
        // The processors changed the winner often enough for the comparison to mean something.
        #expect(changed > 100)
    }

    @Test func rowsCarryTheFiltersAndOnlyLogprobsNeedTheHost() {
        let plain = DeviceSamplingRow(temperature: 0.8, key: 1)
        #expect(!plain.filters)
        #expect(DeviceSamplingRow(temperature: 0.8, key: 1, topK: 40).filters)
        #expect(DeviceSamplingRow(temperature: 0.8, key: 1, topP: 0.9).filters)
        #expect(DeviceSamplingRow(temperature: 0.8, key: 1, minP: 0.05).filters)
        #expect(!DeviceSamplingRow(temperature: 0, key: 1, topK: 40).filters, "greedy ignores the filters")
    }

    /// A masked row keeps its adjustments unless they forbid every token its mask allows; then
    /// the grammar wins (its tokens from the raw logits), as in the host sampler.
    @Test func theGrammarWinsOnlyWhereTheAdjustmentsLeaveNothing() {
        let words = 2  // 64 tokens
        func mask(_ tokens: [Int]) -> [UInt32] {
            var words = [UInt32](repeating: 0, count: 2)
            for t in tokens { words[t / 32] |= 1 << UInt32(t % 32) }
            return words
        }
        let adjustments = [
            LogitAdjustment(row: 0, token: 2, masked: true),       // row 0: min_tokens holds EOS 2 back
            LogitAdjustment(row: 0, token: 7, bias: 1.5),
            LogitAdjustment(row: 1, token: 2, masked: true),       // row 1: the same, but more is allowed
            LogitAdjustment(row: 2, token: 40, bias: -.infinity),  // row 2: a -inf bias on its only token
            LogitAdjustment(row: 3, token: 2, masked: true),       // row 3: unmasked row
        ]
        let masks = mask([2]) + mask([2, 33]) + mask([40])
        let kept = masks.withUnsafeBufferPointer {
            ModelRunner.adjustmentsUnderMasks(adjustments, maskedRows: [0, 1, 2], masks: $0, words: words)
        }
        #expect(kept == [adjustments[2], adjustments[4]])
        let none = masks.withUnsafeBufferPointer {
            ModelRunner.adjustmentsUnderMasks([LogitAdjustment(row: 0, token: 9, bias: 2)], maskedRows: [0, 1, 2],
                                              masks: $0, words: words)
        }
        #expect(none.count == 1, "finite biases never empty a mask")
    }
}
