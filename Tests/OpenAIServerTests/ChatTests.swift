import Foundation
import HummingbirdTesting
import OpenAIServer
import Testing

@Suite struct ChatTests {
    @Test func rendersTheTemplateAsTransformersDoes() async throws {
        let expected = try Fixtures.expected()
        let engine = try Fixtures.engine(maxModelLen: 256)
        try await withServer(engine) { client in
            for chat in expected.chats {
                let body = try String(decoding: JSONSerialization.data(withJSONObject: [
                    "model": "tiny", "messages": chat.messages, "max_tokens": 4,
                ]), as: UTF8.self)
                let response = try await client.post("/v1/chat/completions", body)
                #expect(response.status == .ok)
                #expect(engine.submittedRequests.last?.promptTokenIDs.map(Int.init) == chat.ids)
                let json = try response.json()
                #expect((json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
                #expect(json["object"] as? String == "chat.completion")
                let choice = try #require((json["choices"] as? [[String: Any]])?.first)
                let message = try #require(choice["message"] as? [String: Any])
                #expect(message["role"] as? String == "assistant")
                #expect(message["content"] is String)
                #expect(choice["finish_reason"] as? String == "length")
                let usage = try #require(json["usage"] as? [String: Any])
                #expect(usage["prompt_tokens"] as? Int == chat.ids.count)
                #expect(usage["completion_tokens"] as? Int == 4)
            }
        }
    }

    @Test func contentPartsAreJoined() async throws {
        let engine = try Fixtures.engine(maxModelLen: 256)
        try await withServer(engine) { client in
            let parts = #"{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is the capital"}, {"type": "text", "text": "of France?"}]}], "max_tokens": 1}"#
            let plain = #"{"messages": [{"role": "user", "content": "What is the capital\nof France?"}], "max_tokens": 1}"#
            let first = try await client.post("/v1/chat/completions", parts)
            let second = try await client.post("/v1/chat/completions", plain)
            #expect(first.status == .ok && second.status == .ok)
            let prompts = engine.submittedRequests.map(\.promptTokenIDs)
            #expect(prompts.count == 2 && prompts[0] == prompts[1])
        }
    }

    @Test func streamingEqualsNonStreaming() async throws {
        try await withServer(try Fixtures.engine(maxModelLen: 256)) { client in
            let request = #"{"messages": [{"role": "user", "content": "Count to three."}], "max_completion_tokens": 12, "n": 2, "logprobs": true, "top_logprobs": 3"#
            let whole = try await client.post("/v1/chat/completions", request + "}").json()
            let chunks = try await client.post(
                "/v1/chat/completions", request + #", "stream": true, "stream_options": {"include_usage": true}}"#).chunks()
            var contents = ["", ""]
            var roles: [[String]] = [[], []]
            var entries = [0, 0]
            var finish: [String?] = [nil, nil]
            for chunk in chunks {
                #expect(chunk["object"] as? String == "chat.completion.chunk")
                for choice in chunk["choices"] as? [[String: Any]] ?? [] {
                    let index = try #require(choice["index"] as? Int)
                    let delta = try #require(choice["delta"] as? [String: Any])
                    if let role = delta["role"] as? String { roles[index].append(role) }
                    contents[index] += delta["content"] as? String ?? ""
                    entries[index] += ((choice["logprobs"] as? [String: Any])?["content"] as? [Any])?.count ?? 0
                    if let reason = choice["finish_reason"] as? String { finish[index] = reason }
                }
            }
            let choices = try #require(whole["choices"] as? [[String: Any]])
            for index in 0..<2 {
                #expect(roles[index] == ["assistant"])
                #expect(contents[index] == (choices[index]["message"] as? [String: Any])?["content"] as? String)
                #expect(entries[index] == 12)
                #expect(finish[index] == "length")
            }
            let usage = try #require(chunks.last?["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 24)
            #expect(usage["prompt_tokens"] as? Int == (whole["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
        }
    }

    @Test func logprobsInTheChatFormat() async throws {
        try await withServer(try Fixtures.engine(maxModelLen: 256)) { client in
            let json = try await client.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, "logprobs": true, "top_logprobs": 2}"#).json()
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == 2)
            for entry in content {
                let token = try #require(entry["token"] as? String)
                #expect(entry["bytes"] as? [Int] == Array(token.utf8).map(Int.init))
                #expect(entry["logprob"] is Double)
                let top = try #require(entry["top_logprobs"] as? [[String: Any]])
                #expect(top.count == 2 && top.allSatisfy { $0["token"] is String && $0["logprob"] is Double })
            }
            // logprobs false: null logprobs.
            let plain = try await client.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}"#).json()
            #expect((plain["choices"] as? [[String: Any]])?.first?["logprobs"] is NSNull)
        }
    }

    @Test func maxTokensDefaultsToTheRestOfTheContext() async throws {
        let engine = try Fixtures.engine(maxModelLen: 256)
        try await withServer(engine) { client in
            let json = try await client.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}]}"#).json()
            #expect(engine.submittedRequests.last?.params.maxTokens == nil)
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["total_tokens"] as? Int == 256)
        }
    }
}
