import Testing

@testable import SpeculativeDecoding

struct NgramProposerTests {
    @Test func draftsWhatFollowedTheLatestEarlierOccurrence() {
        let proposer = NgramProposer(minN: 2, maxN: 3)
        // "5 6" occurs at 1 and 6; the latest earlier one (6) is followed by 9 10.
        let tokens: [Int32] = [4, 5, 6, 7, 8, 1, 5, 6, 9, 10, 3, 5, 6]
        #expect(proposer.propose(after: tokens, count: 2) == [9, 10])
        #expect(proposer.propose(after: tokens, count: 0) == [])
    }

    @Test func theLongestSuffixWins() {
        let proposer = NgramProposer(minN: 1, maxN: 3)
        // The last three tokens 1 2 3 occur once before, followed by 40; "3" alone recurs later.
        let tokens: [Int32] = [1, 2, 3, 40, 41, 9, 3, 50, 1, 2, 3]
        #expect(proposer.propose(after: tokens, count: 2) == [40, 41])
    }

    @Test func noRecurringSuffixDraftsNothing() {
        let proposer = NgramProposer(minN: 2, maxN: 4)
        #expect(proposer.propose(after: [1, 2, 3, 4, 5, 6, 7], count: 4) == [])
        #expect(proposer.propose(after: [], count: 4) == [])
        #expect(proposer.propose(after: [7], count: 4) == [])
        // minN bounds the match: one token in common is not enough.
        #expect(proposer.propose(after: [1, 2, 3, 9, 3], count: 2) == [])
        #expect(NgramProposer(minN: 1, maxN: 4).propose(after: [1, 2, 3, 9, 3], count: 2) == [9, 3])
    }

    @Test func aLoopIsDraftedInFull() {
        let proposer = NgramProposer(minN: 2, maxN: 2)
        // Period 3: the match's continuation runs into the suffix and repeats.
        #expect(proposer.propose(after: [1, 2, 3, 1, 2, 3, 1, 2], count: 7) == [3, 1, 2, 3, 1, 2, 3])
        #expect(NgramProposer(minN: 1, maxN: 1).propose(after: [5, 5], count: 4) == [5, 5, 5, 5])
    }

    @Test func matchesAFarPrompt() {
        let proposer = NgramProposer(minN: 3, maxN: 5)
        let prompt = (0 ..< 2000).map { Int32($0 % 997 + 3) }
        let output: [Int32] = [1, 2, 500, 501, 502]
        #expect(proposer.propose(after: prompt + output, count: 4) == [503, 504, 505, 506])
    }
}

struct SpeculativeConfigTests {
    @Test func vllmsNgramForm() throws {
        let config = try SpeculativeConfig(json: #"{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4, "prompt_lookup_min": 2}"#)
        #expect(config == SpeculativeConfig(method: .ngram, numSpeculativeTokens: 4, promptLookupMin: 2, promptLookupMax: 4))
        // vLLM's defaults: 5 and 5 when neither is given, else the one given for both.
        let plain = try SpeculativeConfig(json: #"{"method": "ngram", "num_speculative_tokens": 3}"#)
        #expect(plain.promptLookupMin == 5 && plain.promptLookupMax == 5)
        let onlyMax = try SpeculativeConfig(json: #"{"method": "ngram", "num_speculative_tokens": 3, "prompt_lookup_max": 3}"#)
        #expect(onlyMax.promptLookupMin == 3 && onlyMax.promptLookupMax == 3)
        // The older spelling: the method in "model".
        let old = try SpeculativeConfig(json: #"{"model": "[ngram]", "num_speculative_tokens": 2, "adaptive": false, "disable_by_batch_size": 8}"#)
        #expect(old.method == .ngram && !old.adaptive && old.disableByBatchSize == 8 && old.model == nil)
        let draft = try SpeculativeConfig(json: #"{"model": "/models/small.gguf", "num_speculative_tokens": 3}"#)
        #expect(draft.method == .draftModel && draft.model == "/models/small.gguf")
    }

    @Test(arguments: [
        ("[]", "must be a JSON object, got array"),
        (#"{"num_speculative_tokens": 3}"#, "\"method\" is required (ngram or draft_model)"),
        (#"{"method": "ngram"}"#, "\"num_speculative_tokens\" is required"),
        (#"{"method": "ngram", "num_speculative_tokens": 0}"#, "\"num_speculative_tokens\" must be an integer in 1...32, got 0"),
        (#"{"method": "ngram", "num_speculative_tokens": 2.5}"#, "\"num_speculative_tokens\" must be an integer in 1...32, got 2.5"),
        (#"{"method": "ngram", "num_speculative_tokens": 9223372036854775807}"#, "\"num_speculative_tokens\" must be an integer in 1...32, got 9223372036854775807"),
        (#"{"method": "ngram", "num_speculative_tokens": 2, "prompt_lookup_min": 4, "prompt_lookup_max": 2}"#, "\"prompt_lookup_min\" (4) exceeds \"prompt_lookup_max\" (2)"),
        (#"{"method": "eagle", "num_speculative_tokens": 2}"#, "method \"eagle\" needs draft heads from a checkpoint, which Tern does not load; use ngram or draft_model"),
        (#"{"method": "magic", "num_speculative_tokens": 2}"#, "unknown method \"magic\" (ngram or draft_model)"),
        (#"{"method": "draft_model", "num_speculative_tokens": 2}"#, "method draft_model needs \"model\": the draft model's path"),
        (#"{"method": "ngram", "num_speculative_tokens": 2, "typo": 1}"#, "\"typo\" is not supported (Tern takes method, num_speculative_tokens, prompt_lookup_min, prompt_lookup_max, model, disable_by_batch_size, adaptive)"),
        (#"{"method": "ngram", "num_speculative_tokens": 2, "adaptive": "yes"}"#, "\"adaptive\" must be true or false, got \"yes\""),
    ])
    func badConfigsNameTheField(json: String, message: String) {
        #expect(throws: SpeculativeConfigError(message)) { try SpeculativeConfig(json: json) }
    }
}

struct SpeculationPolicyTests {
    @Test func acceptanceFollowsVerifications() {
        let policy = SpeculationPolicy(maxDraftTokens: 4)
        #expect(policy.acceptanceRate(of: "r") == SpeculationPolicy.priorAcceptance)
        for _ in 0 ..< 40 { policy.recordVerification("r", drafted: 4, accepted: 4) }
        #expect(policy.acceptanceRate(of: "r") > 0.95)
        for _ in 0 ..< 40 { policy.recordVerification("r", drafted: 4, accepted: 0) }
        #expect(policy.acceptanceRate(of: "r") < 0.05)
        // Idle steps bring it back towards the engine-wide rate, so drafting is tried again;
        // a new request starts there.
        let global = policy.globalAcceptance
        #expect(global > 0.3 && global < 0.8)
        for _ in 0 ..< 200 { policy.recordIdle("r") }
        #expect(abs(policy.acceptanceRate(of: "r") - global) < 0.05)
        policy.forget("r")
        #expect(policy.acceptanceRate(of: "r") == global)
        // Requests whose drafts keep failing teach new ones not to draft.
        for index in 0 ..< 20 { for _ in 0 ..< 10 { policy.recordVerification("bad\(index)", drafted: 2, accepted: 0) } }
        #expect(policy.acceptanceRate(of: "new") < 0.05)
    }

    @Test func cheapTokensDraftLongCostlyTokensDraftNothing() {
        // Bandwidth-bound: a step costs 10 ms plus 0.1 ms a token.
        let cheap = SpeculationPolicy(maxDraftTokens: 8)
        for tokens in [1, 2, 5, 9, 1, 3] { cheap.recordStep(tokens: tokens, seconds: 0.010 + 0.0001 * Double(tokens)) }
        for _ in 0 ..< 30 { cheap.recordVerification("good", drafted: 8, accepted: 8) }
        for _ in 0 ..< 30 { cheap.recordVerification("bad", drafted: 2, accepted: 0) }
        let (a, b) = cheap.stepCost
        #expect(abs(a - 0.010) < 1e-6 && abs(b - 0.0001) < 1e-7)
        #expect(cheap.draftLengths(for: ["good", "bad"], baseTokens: 1) == [8, 0])
        // Compute-bound (a large batch): each token costs as much as the step's fixed part.
        let costly = SpeculationPolicy(maxDraftTokens: 8)
        for tokens in [200, 256, 230, 300] { costly.recordStep(tokens: tokens, seconds: 0.001 * Double(tokens)) }
        for _ in 0 ..< 30 { costly.recordVerification("good", drafted: 8, accepted: 7) }
        #expect(costly.draftLengths(for: ["good"], baseTokens: 256) == [0])
        // Not adaptive: always k.
        #expect(SpeculationPolicy(maxDraftTokens: 3, adaptive: false).draftLengths(for: ["x", "y"], baseTokens: 9) == [3, 3])
    }

    @Test func theLengthMaximisesTokensPerSecond() {
        // At batch 1 with a = 10, b = 1 (ms): k drafts of acceptance 0.8 yield
        // (1 + 0.8 + ... + 0.8^k) / (11 + k) tokens per ms; the best k is the policy's.
        let policy = SpeculationPolicy(maxDraftTokens: 16)
        for tokens in [1, 4, 8, 2] { policy.recordStep(tokens: tokens, seconds: 0.010 + 0.001 * Double(tokens)) }
        for _ in 0 ..< 200 { policy.recordVerification("r", drafted: 1, accepted: 1); policy.recordVerification("r", drafted: 5, accepted: 0) }
        let rate = policy.acceptanceRate(of: "r")
        func yield(_ k: Int) -> Double { (1 + SpeculationPolicy.expectedExtra(rate, k)) / (11 + Double(k)) }
        let best = (0 ... 16).max { yield($0) < yield($1) }!
        let chosen = policy.draftLengths(for: ["r"], baseTokens: 1)[0]
        #expect(abs(yield(chosen) - yield(best)) / yield(best) < 0.01, "k \(chosen) vs best \(best) at acceptance \(rate)")
    }
}

extension SpeculationPolicyTests {
    @Test func measuredStepCostsBeatTheLine() {
        // A CPU's steps as measured with SmolLM2: 4 tokens fill a register tile, 5 need a second.
        let policy = SpeculationPolicy(maxDraftTokens: 8)
        let costs: [Int: Double] = [1: 1, 2: 1.6, 3: 1.9, 4: 2.1, 5: 2.85, 6: 3.1, 7: 3.3, 8: 3.5, 9: 4.3]
        for _ in 0 ..< 3 { for (tokens, cost) in costs.sorted(by: { $0.key < $1.key }) { policy.recordStep(tokens: tokens, seconds: cost / 100) } }
        for _ in 0 ..< 100 { policy.recordVerification("r", drafted: 4, accepted: 3) }
        let rate = policy.acceptanceRate(of: "r")
        func yield(_ k: Int) -> Double { (1 + SpeculationPolicy.expectedExtra(rate, k)) / costs[1 + k]! }
        let best = (0 ... 8).max { yield($0) < yield($1) }!
        #expect(policy.draftLengths(for: ["r"], baseTokens: 1) == [best], "acceptance \(rate)")
        // At acceptance ~0.71 the tile-shaped costs make 3 drafts the best.
        #expect(best == 3)
    }
}

struct SpeculativeStatsTests {
    @Test func countsPerPosition() {
        var stats = SpeculativeStats()
        stats.record(drafted: 4, accepted: 2)
        stats.record(drafted: 2, accepted: 2)
        stats.record(drafted: 0, accepted: 0)
        #expect(stats.numDrafts == 2 && stats.numDraftTokens == 6 && stats.numAcceptedTokens == 4)
        #expect(stats.acceptedPerPosition == [2, 2, 0, 0])
        #expect(abs(stats.acceptanceRate - 4.0 / 6) < 1e-12)
        #expect(stats.meanAcceptedLength == 3)
    }
}
