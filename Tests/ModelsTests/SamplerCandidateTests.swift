import EngineCore
import Foundation
import Testing

@testable import Engine

/// The draw's candidates on a Gemma-sized vocabulary: which tokens a draw can pick (every
/// token within `negligibleLogitGap` of the best, ascending) and their weights (exp of the
/// logit's distance from the best), against a plain Swift walk with Foundation's exp.
struct SamplerCandidateTests {
    static let vocabulary = 262_144

    /// Logits spread over [-45, 5] (about 70% within the gap of the best), with -inf and
    /// exact-cutoff entries sprinkled in.
    static func logits(seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        var row = (0..<vocabulary).map { _ in Float(random.nextUnit()) * 50 - 45 }
        for i in stride(from: 7, to: vocabulary, by: 1009) { row[i] = -.infinity }
        return row
    }

    static func sampler(_ row: [Float]) -> Sampler {
        var sampler = Sampler()
        row.withUnsafeBufferPointer { logits in
            sampler.prepare(logits: logits, params: SamplingParams(), history: Sampler.History(
                promptTokenIDs: [], outputTokenIDs: [], eosTokenIDs: []))
        }
        return sampler
    }

    @Test(arguments: [1 as UInt64, 2, 3])
    func plainDrawKeepsEveryTokenWithinTheGapWithItsWeight(seed: UInt64) {
        var row = Self.logits(seed: seed)
        let top = row.max()!
        // One token exactly at the cutoff (kept) and one just below it (left out).
        row[100] = top - Sampler.negligibleLogitGap
        row[101] = (top - Sampler.negligibleLogitGap).nextDown
        var sampler = Self.sampler(row)
        let count = sampler.candidatesAfterFilters(params: SamplingParams())
        let expected = row.indices.filter { row[$0] >= top - Sampler.negligibleLogitGap }
        #expect(count == expected.count)
        #expect(Array(sampler.order[0..<count]) == expected.map(Int32.init))
        #expect(sampler.order[0..<count].contains(100) && !sampler.order[0..<count].contains(101))
        var worst: Float = 0
        for rank in 0..<count {
            let exact = Foundation.exp(row[expected[rank]] - top)
            worst = max(worst, abs(sampler.weights[rank] - exact) / exact)
        }
        #expect(worst < 1e-6, "worst relative error of a weight: \(worst)")
    }

    @Test func filtersRankTheSameCandidates() {
        let row = Self.logits(seed: 4)
        var sampler = Self.sampler(row)
        let params = SamplingParams(topP: 0.5, topK: 50)
        let count = sampler.candidatesAfterFilters(params: params)
        let best50 = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(50)
        #expect(count >= 1 && count <= 50)
        #expect(Array(sampler.order[0..<count]) == best50.prefix(count).map(Int32.init))
        // Weights are relative to the best and fall with rank.
        #expect(sampler.weights[0] == 1)
        #expect((1..<count).allSatisfy { sampler.weights[$0] <= sampler.weights[$0 - 1] })
        // A plain draw afterwards on the same sampler sees the whole vocabulary again.
        let all = sampler.candidatesAfterFilters(params: SamplingParams())
        let cutoff = row.max()! - Sampler.negligibleLogitGap
        #expect(all == row.filter { $0 >= cutoff }.count)
    }

    @Test func aRowWithNoFiniteLogitDrawsTheArgmax() {
        var row = [Float](repeating: -.infinity, count: 1000)
        var sampler = Self.sampler(row)
        #expect(sampler.candidatesAfterFilters(params: SamplingParams()) == 1)
        #expect(sampler.pick(candidates: 1, uniform: 0.7) == 0)
        row[613] = 2
        sampler = Self.sampler(row)
        #expect(sampler.candidatesAfterFilters(params: SamplingParams()) == 1)
        #expect(sampler.pick(candidates: 1, uniform: 0.99) == 613)
    }

    @Test func theDrawIsTheInverseOfTheCumulativeWeights() {
        // Four tokens at logits log(1), log(2), log(3), log(4) among -inf: weights 1:2:3:4 of 10.
        var row = [Float](repeating: -.infinity, count: Self.vocabulary)
        for (token, weight) in [(10, 1.0), (20_000, 2.0), (150_000, 3.0), (262_143, 4.0)] {
            row[token] = Float(Foundation.log(weight))
        }
        var sampler = Self.sampler(row)
        let count = sampler.candidatesAfterFilters(params: SamplingParams())
        #expect(count == 4)
        let picks = [0.05, 0.15, 0.25, 0.45, 0.55, 0.65, 0.95].map { sampler.pick(candidates: count, uniform: Float($0)) }
        #expect(picks == [10, 20_000, 20_000, 150_000, 150_000, 262_143, 262_143])
    }
}
