import Foundation
import HummingbirdTesting
import NIOCore
import OpenAIServer
import Testing

@Suite struct ErrorTests {
    @Test func invalidFieldsAre400sNamingTheField() async throws {
        try await withServer(try Fixtures.engine()) { client in
            let cases: [(String, String, String?)] = [
                ("/v1/completions", #"{"prompt": "Hi", "temperature": -1}"#, "temperature"),
                ("/v1/completions", #"{"prompt": "Hi", "top_p": 2}"#, "top_p"),
                ("/v1/completions", #"{"prompt": "Hi", "n": 0}"#, "n"),
                ("/v1/completions", #"{"prompt": "Hi", "max_tokens": 0}"#, "max_tokens"),
                ("/v1/completions", #"{"prompt": "Hi", "logprobs": 21}"#, "logprobs"),
                ("/v1/completions", #"{"prompt": "Hi", "logit_bias": {"abc": 1}}"#, "logit_bias"),
                ("/v1/completions", #"{"prompt": "Hi", "logit_bias": {"5": 101}}"#, "logit_bias"),
                ("/v1/completions", #"{"prompt": "Hi", "temperature": "hot"}"#, "temperature"),
                ("/v1/completions", #"{"prompt": "Hi", "stream_options": {"include_usage": true}}"#, "stream_options"),
                ("/v1/completions", #"{"prompt": "Hi", "suffix": "end"}"#, "suffix"),
                ("/v1/completions", #"{"prompt": [1, 99999]}"#, "prompt"),
                ("/v1/completions", #"{"prompt": []}"#, "prompt"),
                ("/v1/completions", #"{"prompt": {"text": "Hi"}}"#, "prompt"),
                ("/v1/completions", #"{"max_tokens": 3}"#, "prompt"),
                ("/v1/completions", #"{"prompt": "Hi", "response_format": {"type": "json_schema"}}"#, "response_format"),
                ("/v1/chat/completions", #"{"messages": []}"#, "messages"),
                ("/v1/chat/completions", #"{"messages": [{"role": "wizard", "content": "Hi"}]}"#, "messages[0].role"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#, "messages[0].content"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "top_logprobs": 2}"#, "top_logprobs"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "logprobs": true, "top_logprobs": 30}"#, "top_logprobs"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function"}]}"#, "tools"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "xml"}}"#, "response_format"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": -2}"#, "max_completion_tokens"),
                ("/v1/chat/completions", "{not json", nil),
                ("/v1/chat/completions", "", nil),
            ]
            for (uri, body, param) in cases {
                let error = try await client.post(uri, body).error(.badRequest)
                #expect(error["type"] as? String == "invalid_request_error", "\(body)")
                #expect(error["param"] as? String == param, "\(body): \(error)")
            }
        }
    }

    @Test func promptsLongerThanTheContextAre400s() async throws {
        try await withServer(try Fixtures.engine(maxModelLen: 16)) { client in
            let long = String(repeating: "Hello, world! ", count: 10)
            let tooLong = try await client.post("/v1/completions", #"{"prompt": "\#(long)"}"#).error(.badRequest)
            #expect(tooLong["code"] as? Int == 400, "the status, as vLLM sends it")
            #expect((tooLong["message"] as? String)?.contains("maximum context length is 16 tokens") == true)
            let withOutput = try await client.post("/v1/completions", #"{"prompt": "Hello, world!", "max_tokens": 10}"#)
                .error(.badRequest)
            #expect(withOutput["param"] as? String == "max_tokens")
            #expect(try await client.post("/v1/completions", #"{"prompt": "Hello, world!", "max_tokens": 9}"#).status == .ok)
            let chat = try await client.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}]}"#)
            #expect(try chat.error(.badRequest)["code"] as? Int == 400)
        }
    }

    @Test func unknownModelIs404() async throws {
        try await withServer(try Fixtures.engine()) { client in
            for (uri, body) in [("/v1/completions", #"{"model": "gpt-4", "prompt": "Hi"}"#),
                                ("/v1/chat/completions", #"{"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]}"#)] {
                let error = try await client.post(uri, body).error(.notFound)
                #expect(error["code"] as? Int == 404)
                #expect(error["param"] as? String == "model")
            }
        }
    }

    @Test func apiKeyIsRequiredOnV1Routes() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.apiKey = "sekrit" }) { client in
            let missing = try await client.get("/v1/models").error(.unauthorized)
            #expect(missing["code"] as? Int == 401)
            _ = try await client.get("/v1/models", headers: [.authorization: "Bearer wrong"]).error(.unauthorized)
            _ = try await client.post("/v1/completions", #"{"prompt": "Hi"}"#).error(.unauthorized)
            #expect(try await client.get("/v1/models", headers: [.authorization: "Bearer sekrit"]).status == .ok)
            #expect(try await client.post("/v1/completions", #"{"prompt": "Hi"}"#,
                                          headers: [.authorization: "Bearer sekrit"]).status == .ok)
            // Operational routes stay open.
            #expect(try await client.get("/health").status == .ok)
            #expect(try await client.get("/metrics").status == .ok)
        }
    }

    @Test func bodiesOverTheLimitAre413() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.maxBodyBytes = 1000 }) { client in
            let big = String(repeating: "a", count: 2000)
            let error = try await client.post("/v1/completions", #"{"prompt": "\#(big)"}"#).error(.contentTooLarge)
            #expect((error["message"] as? String)?.contains("1000 bytes") == true)
            #expect(try await client.post("/v1/completions", #"{"prompt": "Hi"}"#).status == .ok)
        }
    }

    @Test func fullQueueIs503() async throws {
        let engine = try Fixtures.engine()
        engine.holding = true
        try await withServer(engine, configure: { $0.maxWaitingRequests = 2 }) { client in
            async let first = client.post("/v1/completions", #"{"prompt": "Hi", "max_tokens": 1, "n": 2}"#)
            while engine.stats().waitingRequests < 2 { try await Task.sleep(for: .milliseconds(5)) }
            let error = try await client.post("/v1/completions", #"{"prompt": "Hi", "max_tokens": 1}"#)
                .error(.serviceUnavailable)
            #expect(error["type"] as? String == "server_error")
            engine.release()
            #expect(try await first.status == .ok)
        }
    }

    @Test func engineFailureIs500OrAnErrorEvent() async throws {
        let engine = try Fixtures.engine()
        engine.failAfter = 2
        try await withServer(engine) { client in
            let error = try await client.post("/v1/completions", #"{"prompt": "Hello", "max_tokens": 5}"#)
                .error(.internalServerError)
            #expect((error["message"] as? String)?.contains("fake step failure") == true)
            let streamed = try await client.post("/v1/completions", #"{"prompt": "Hello", "max_tokens": 5, "stream": true}"#)
            #expect(streamed.status == .ok)
            let events = streamed.events
            #expect(events.last == "[DONE]")
            let failure = try #require(events.dropLast().last)
            #expect(failure.contains("\"error\"") && failure.contains("fake step failure"))
        }
    }

    @Test func clientDisconnectAbortsTheRequest() async throws {
        let engine = try Fixtures.engine()
        engine.holding = true
        try await withServer(engine) { client in
            let port = try #require(client.port)
            for stream in [false, true] {
                let before = engine.submittedRequests.count
                let body = #"{"prompt": "Hi", "max_tokens": 3, "n": 2, "stream": \#(stream)}"#
                let socket = try RawHTTPConnection(port: port)
                try socket.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
                let deadline = ContinuousClock.now + .seconds(5)
                while engine.submittedRequests.count < before + 2, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let ids = engine.submittedRequests.dropFirst(before).map(\.requestID)
                #expect(ids.count == 2)
                socket.close()
                while !Set(ids).isSubset(of: engine.abortedIDs), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(Set(ids).isSubset(of: engine.abortedIDs), "stream: \(stream)")
            }
        }
    }
}
