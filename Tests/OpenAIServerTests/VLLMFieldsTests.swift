import Engine
import Foundation
import HummingbirdTesting
import Logging
import OpenAIServer
import Testing

/// vLLM's extra request fields on the real engine (SmolLM2), each checked for what it must do
/// to the answer, not only that it is accepted. Part of `EngineEndToEndTests`, whose tests run
/// one at a time: they share the one loaded model, which runs one engine at a time.
extension EngineEndToEndTests {
    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    static func choice(_ response: TestResponse) throws -> [String: Any] {
        try #require((try response.json()["choices"] as? [[String: Any]])?.first, "\(response.text)")
    }

    @Test func logprobFieldsFollowVLLMsLayout() async throws {
        try await withServer(try EngineEndToEndTests.engine()) { client in
            let prompt = "The capital of France is"
            // prompt_logprobs: one entry per prompt token, the first null, each keyed by token id.
            let withPrompt = try Self.choice(try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 2, "temperature": 0, "prompt_logprobs": 2, "return_token_ids": true,
            ])))
            let promptIDs = try #require(withPrompt["prompt_token_ids"] as? [Int])
            let entries = try #require(withPrompt["prompt_logprobs"] as? [Any])
            #expect(entries.count == promptIDs.count && entries.first is NSNull)
            for (position, entry) in entries.enumerated().dropFirst() {
                let byID = try #require(entry as? [String: [String: Any]])
                let own = try #require(byID[String(promptIDs[position])], "the prompt's own token is listed")
                #expect((own["rank"] as? Int ?? 0) >= 1 && own["decoded_token"] is String && own["logprob"] is Double)
                #expect(byID.values.contains { $0["rank"] as? Int == 1 })
            }
            #expect((withPrompt["token_ids"] as? [Int])?.count == 2)
            // echo with logprobs: the prompt's tokens first, the first with null logprobs.
            let echoed = try Self.choice(try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 3, "temperature": 0, "echo": true, "logprobs": 1,
            ])))
            let logprobs = try #require(echoed["logprobs"] as? [String: Any])
            let tokens = try #require(logprobs["tokens"] as? [String])
            #expect(tokens.count == promptIDs.count + 3)
            #expect((logprobs["token_logprobs"] as? [Any])?.first is NSNull)
            #expect((logprobs["top_logprobs"] as? [Any])?.first is NSNull)
            #expect((echoed["text"] as? String)?.hasPrefix(prompt) == true)
            // logprobs 0: the sampled token's entry, no alternatives.
            let zero = try #require(try Self.choice(try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 2, "temperature": 0, "logprobs": 0,
            ])))["logprobs"] as? [String: Any])
            #expect((zero["token_logprobs"] as? [Double])?.count == 2)
            #expect((zero["top_logprobs"] as? [[String: Double]])?.allSatisfy { $0.isEmpty } == true)
            // return_tokens_as_token_ids on chat, with the token's own bytes.
            let chat = try await client.post("/v1/chat/completions", try Self.json([
                "messages": [["role": "user", "content": "Say hi"]], "max_tokens": 3, "temperature": 0,
                "logprobs": true, "top_logprobs": 2, "return_tokens_as_token_ids": true, "return_token_ids": true,
                "prompt_logprobs": 0,
            ])).json()
            let first = try #require((chat["choices"] as? [[String: Any]])?.first)
            let content = try #require((first["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            let ids = try #require(first["token_ids"] as? [Int])
            for (entry, id) in zip(content, ids) {
                #expect(entry["token"] as? String == "token_id:\(id)")
                #expect((entry["bytes"] as? [Int])?.isEmpty == false)
                #expect((entry["top_logprobs"] as? [[String: Any]])?.allSatisfy { ($0["token"] as? String)?.hasPrefix("token_id:") == true } == true)
            }
            #expect((chat["prompt_token_ids"] as? [Int])?.isEmpty == false)
            #expect((chat["prompt_logprobs"] as? [Any])?.count == (chat["prompt_token_ids"] as? [Int])?.count)
            _ = try await client.post("/v1/completions", #"{"prompt": "Hi", "prompt_logprobs": -1}"#).error(.badRequest)
            _ = try await client.post("/v1/completions", #"{"prompt": "Hi", "use_beam_search": true}"#).error(.badRequest)
        }
    }

    @Test func processorsAndStopsDoWhatTheySay() async throws {
        let tokenizer = try #require(SmolLM2.model).tokenizer
        try await withServer(try EngineEndToEndTests.engine()) { client in
            let prompt = "Count: 1, 2, 3, 4,"
            let plain = try Self.choice(try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 8, "temperature": 0, "return_token_ids": true,
            ])))
            let plainIDs = try #require(plain["token_ids"] as? [Int])
            // allowed_token_ids: only those come out.
            let allowed = [plainIDs[1], plainIDs[2], 28]
            let only = try #require(try Self.choice(try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 6, "temperature": 1, "seed": 3, "allowed_token_ids": allowed,
                "return_token_ids": true,
            ])))["token_ids"] as? [Int])
            #expect(!only.isEmpty && only.allSatisfy(allowed.contains), "\(only)")
            // bad_words: a word of the greedy continuation (one token, with or without its space) never appears.
            let word = try #require(plainIDs.lazy.map { tokenizer.decode([Int32($0)]).trimmingCharacters(in: .whitespaces) }
                .first { !$0.isEmpty })
            let forms = [tokenizer.encode(word, addSpecialTokens: false), tokenizer.encode(" " + word, addSpecialTokens: false)]
                .filter { $0.count == 1 }.map { Int($0[0]) }
            #expect(!forms.isEmpty && forms.contains(where: plainIDs.contains))
            let banned = try #require(try Self.choice(try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 8, "temperature": 0, "bad_words": [word], "return_token_ids": true,
            ])))["token_ids"] as? [Int])
            #expect(!banned.contains(where: forms.contains), "bad word \(word) (\(forms)) banned: \(banned)")
            // include_stop_str_in_output: the stop string stays.
            let text = try #require(plain["text"] as? String)
            let stop = String(text.trimmingCharacters(in: .whitespaces).prefix(1))
            for (include, suffix) in [(true, true), (false, false)] {
                let stopped = try Self.choice(try await client.post("/v1/completions", try Self.json([
                    "prompt": prompt, "max_tokens": 8, "temperature": 0, "stop": [stop], "include_stop_str_in_output": include,
                ])))
                #expect(stopped["stop_reason"] as? String == stop)
                #expect((stopped["text"] as? String)?.hasSuffix(stop) == suffix, "\(stopped)")
            }
            // truncate_prompt_tokens keeps the prompt's last tokens.
            let truncated = try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 1, "truncate_prompt_tokens": 3,
            ])).json()
            #expect((truncated["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 3)
            // continuous_usage_stats: every chunk counts what was generated so far.
            let stream = try await client.post("/v1/completions", try Self.json([
                "prompt": prompt, "max_tokens": 4, "temperature": 0, "stream": true,
                "stream_options": ["include_usage": true, "continuous_usage_stats": true],
            ]))
            let usages = try stream.chunks().compactMap { ($0["usage"] as? [String: Any])?["completion_tokens"] as? Int }
            #expect(usages.count >= 4 && usages == usages.sorted() && usages.last == 4, "\(usages)")
        }
    }

    @Test func chatPromptFields() async throws {
        try await withServer(try EngineEndToEndTests.engine()) { client in
            let messages: [[String: String]] = [["role": "user", "content": "Name a fruit."],
                                                ["role": "assistant", "content": "A red fruit is the"]]
            // continue_final_message: the prompt ends with the assistant's words, not the turn's end.
            let continued = try await client.post("/v1/chat/completions", try Self.json([
                "messages": messages, "add_generation_prompt": false, "continue_final_message": true, "echo": true,
                "max_tokens": 3, "temperature": 0, "return_token_ids": true,
            ])).json()
            let message = try #require(((continued["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
            #expect((message["content"] as? String)?.hasPrefix("A red fruit is the") == true, "echo puts the final message first")
            let promptIDs = try #require(continued["prompt_token_ids"] as? [Int])
            let tokenizer = try #require(SmolLM2.model).tokenizer
            #expect(tokenizer.decode(promptIDs.map(Int32.init)).hasSuffix("A red fruit is the"))
            _ = try await client.post("/v1/chat/completions", try Self.json([
                "messages": messages, "continue_final_message": true,
            ])).error(.badRequest)
            // chat_template_kwargs reach the template (an unknown one changes nothing, a wrong type is a 400).
            #expect(try await client.post("/v1/chat/completions", try Self.json([
                "messages": [messages[0]], "max_tokens": 1, "chat_template_kwargs": ["enable_thinking": false],
            ])).status == .ok)
            _ = try await client.post("/v1/chat/completions", try Self.json([
                "messages": [messages[0]], "chat_template_kwargs": [1, 2],
            ])).error(.badRequest)
        }
    }

    @Test func tokenizeInLlamaCppsAndVLLMsForms() async throws {
        try await withServer(try EngineEndToEndTests.engine()) { client in
            let vllm = try await client.post("/tokenize", #"{"prompt": "Hello world", "return_token_strs": true}"#).json()
            let ids = try #require(vllm["tokens"] as? [Int])
            #expect((vllm["token_strs"] as? [String])?.count == ids.count)
            let llama = try await client.post("/tokenize", #"{"content": "Hello world", "with_pieces": true}"#).json()
            let pieces = try #require(llama["tokens"] as? [[String: Any]])
            #expect(pieces.compactMap { $0["id"] as? Int } == ids, "no BOS is added to content by default")
            #expect(pieces.compactMap { $0["piece"] as? String }.joined() == "Hello world")
            let text = try await client.post("/detokenize", try Self.json(["tokens": ids])).json()
            #expect(text["prompt"] as? String == "Hello world" && text["content"] as? String == "Hello world")
            _ = try await client.post("/tokenize", #"{"prompt": "a", "content": "b"}"#).error(.badRequest)
        }
    }
}
