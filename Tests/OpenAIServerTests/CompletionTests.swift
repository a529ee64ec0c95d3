import EngineCore
import Foundation
import HummingbirdTesting
import OpenAIServer
import Testing

@Suite struct CompletionTests {
    /// The fake engine repeats the prompt's tokens, so with max_tokens equal to the prompt's
    /// length the completion is HF's decode of the prompt ids.
    @Test func textUsageAndFinishReason() async throws {
        let expected = try Fixtures.expected()
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            for prompt in expected.prompts.prefix(3) {
                let body = #"{"model": "tiny", "prompt": "\#(prompt.prompt)", "max_tokens": \#(prompt.ids.count)}"#
                let response = try await client.post("/v1/completions", body)
                #expect(response.status == .ok)
                let json = try response.json()
                #expect((json["id"] as? String)?.hasPrefix("cmpl-") == true)
                #expect(json["object"] as? String == "text_completion")
                #expect(json["model"] as? String == "tiny")
                let choice = try #require((json["choices"] as? [[String: Any]])?.first)
                #expect(choice["text"] as? String == prompt.decoded)
                #expect(choice["finish_reason"] as? String == "length")
                #expect(choice["index"] as? Int == 0)
                #expect(choice["logprobs"] is NSNull)
                let usage = try #require(json["usage"] as? [String: Any])
                #expect(usage["prompt_tokens"] as? Int == prompt.ids.count)
                #expect(usage["completion_tokens"] as? Int == prompt.ids.count)
                #expect(usage["total_tokens"] as? Int == 2 * prompt.ids.count)
                let details = try #require(usage["prompt_tokens_details"] as? [String: Any])
                #expect(details["cached_tokens"] as? Int == prompt.ids.count / 2)
            }
            // The text prompt reached the engine as HF's ids.
            #expect(engine.submittedRequests.first?.promptTokenIDs.map(Int.init) == expected.prompts[0].ids)
        }
    }

    @Test func tokenPromptsAndSeveralPrompts() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            let json = try await client.post("/v1/completions", #"{"prompt": [[5, 6, 7], [8, 9]], "max_tokens": 2, "n": 2}"#).json()
            let choices = try #require(json["choices"] as? [[String: Any]])
            #expect(choices.map { $0["index"] as? Int } == [0, 1, 2, 3])
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 5)
            #expect(usage["completion_tokens"] as? Int == 8)
            let prompts = Set(engine.submittedRequests.map(\.promptTokenIDs))
            #expect(prompts == [[5, 6, 7], [8, 9]])
        }
    }

    @Test func streamingEqualsNonStreaming() async throws {
        try await withServer(try Fixtures.engine()) { client in
            let request = #"{"prompt": "Once upon a time", "max_tokens": 9, "n": 2, "logprobs": 2"#
            let whole = try await client.post("/v1/completions", request + "}").json()
            let streamed = try await client.post("/v1/completions",
                                                 request + #", "stream": true, "stream_options": {"include_usage": true}}"#)
            #expect(streamed.status == .ok)
            #expect(streamed.headers[.contentType] == "text/event-stream")
            let chunks = try streamed.chunks()
            var texts = ["", ""]
            var tokens: [[String]] = [[], []]
            var finish: [String?] = [nil, nil]
            for chunk in chunks.dropLast() {
                #expect(chunk["object"] as? String == "text_completion")
                #expect(chunk["id"] as? String == chunks[0]["id"] as? String)
                for choice in chunk["choices"] as? [[String: Any]] ?? [] {
                    let index = try #require(choice["index"] as? Int)
                    texts[index] += choice["text"] as? String ?? ""
                    tokens[index] += (choice["logprobs"] as? [String: Any])?["tokens"] as? [String] ?? []
                    if let reason = choice["finish_reason"] as? String { finish[index] = reason }
                }
            }
            let wholeChoices = try #require(whole["choices"] as? [[String: Any]])
            for index in 0..<2 {
                #expect(texts[index] == wholeChoices[index]["text"] as? String)
                #expect(tokens[index] == (wholeChoices[index]["logprobs"] as? [String: Any])?["tokens"] as? [String])
                #expect(finish[index] == "length")
            }
            let usageChunk = try #require(chunks.last)
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            let usage = try #require(usageChunk["usage"] as? [String: Any])
            let wholeUsage = try #require(whole["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 18)
            #expect(usage["prompt_tokens"] as? Int == wholeUsage["prompt_tokens"] as? Int)
            #expect(usage["total_tokens"] as? Int == wholeUsage["total_tokens"] as? Int)
            // Without include_usage no chunk carries usage.
            let plain = try await client.post("/v1/completions", request + #", "stream": true}"#).chunks()
            #expect(plain.allSatisfy { $0["usage"] == nil || $0["usage"] is NSNull })
        }
    }

    @Test func stopStringEndsTheChoice() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            let json = try await client.post("/v1/completions",
                                             #"{"prompt": "Hello, world!", "max_tokens": 7, "stop": "world"}"#).json()
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "Hello, ")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(choice["stop_reason"] as? String == "world")
            #expect(engine.submittedRequests.last?.params.stop == ["world"])

            let list = try await client.post("/v1/completions",
                                             #"{"prompt": "Hello, world!", "max_tokens": 7, "stop": ["xyz", "!"]}"#).json()
            let listed = try #require((list["choices"] as? [[String: Any]])?.first)
            #expect(listed["text"] as? String == "Hello, world")
            #expect(listed["stop_reason"] as? String == "!")
        }
    }

    @Test func logprobsInTheCompletionsFormat() async throws {
        try await withServer(try Fixtures.engine()) { client in
            let json = try await client.post("/v1/completions",
                                             #"{"prompt": "Hello, world!", "max_tokens": 3, "logprobs": 2}"#).json()
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            let logprobs = try #require(choice["logprobs"] as? [String: Any])
            let tokens = try #require(logprobs["tokens"] as? [String])
            #expect(tokens.joined() == choice["text"] as? String)
            #expect(tokens.count == 3)
            let values = try #require(logprobs["token_logprobs"] as? [Double])
            #expect(values.map { ($0 * 100).rounded() / 100 } == [-0.1, -0.2, -0.3])
            let top = try #require(logprobs["top_logprobs"] as? [[String: Double]])
            #expect(top.count == 3 && top.allSatisfy { $0.count == 2 })
            let offsets = try #require(logprobs["text_offset"] as? [Int])
            #expect(offsets == [0, tokens[0].count, tokens[0].count + tokens[1].count])
        }
    }

    @Test func echoPutsThePromptFirst() async throws {
        try await withServer(try Fixtures.engine()) { client in
            let json = try await client.post("/v1/completions", #"{"prompt": "Once upon a time", "max_tokens": 6, "echo": true}"#).json()
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "Once upon a timeOnce upon a time")
            let streamed = try await client.post(
                "/v1/completions", #"{"prompt": "Once upon a time", "max_tokens": 6, "echo": true, "stream": true}"#)
            let text = try streamed.chunks().compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
            #expect(text == "Once upon a timeOnce upon a time")
        }
    }

    @Test func samplingFieldsReachTheEngine() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            let body = #"""
                {"prompt": "Hi", "max_tokens": 5, "temperature": 0.5, "top_p": 0.9, "top_k": 7, "min_p": 0.05,
                 "presence_penalty": 0.5, "frequency_penalty": -0.5, "repetition_penalty": 1.1,
                 "logit_bias": {"17": -100, "42": 5.5}, "seed": 1234, "ignore_eos": true, "min_tokens": 2,
                 "stop_token_ids": [2], "skip_special_tokens": false, "response_format": {"type": "text"}, "n": 3}
                """#
            #expect(try await client.post("/v1/completions", body).status == .ok)
            let requests = engine.submittedRequests.sorted { $0.requestID < $1.requestID }
            #expect(requests.count == 3)
            let params = try #require(requests.first?.params)
            #expect(params.temperature == 0.5 && params.topP == 0.9 && params.topK == 7 && params.minP == 0.05)
            #expect(params.presencePenalty == 0.5 && params.frequencyPenalty == -0.5 && params.repetitionPenalty == 1.1)
            #expect(params.logitBias == [17: -100, 42: 5.5])
            #expect(params.ignoreEOS && params.minTokens == 2 && params.maxTokens == 5 && !params.skipSpecialTokens)
            #expect(params.stopTokenIDs == [2])
            // One engine request per choice, each n = 1, seeds seed + i.
            #expect(requests.map(\.params.n) == [1, 1, 1])
            #expect(requests.map(\.params.seed) == [1234, 1235, 1236])
            #expect(Set(requests.map(\.requestID)).count == 3)
            #expect(requests.allSatisfy { $0.requestID.hasPrefix("cmpl-") })
        }
    }

    @Test func defaultsFollowOpenAI() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            #expect(try await client.post("/v1/completions", #"{"prompt": "Hi"}"#).status == .ok)
            let params = try #require(engine.submittedRequests.last?.params)
            #expect(params.maxTokens == 16 && params.temperature == 1 && params.topP == 1 && params.n == 1)
            #expect(params.logprobs == nil && params.seed == nil && params.stop.isEmpty)
        }
    }
}
