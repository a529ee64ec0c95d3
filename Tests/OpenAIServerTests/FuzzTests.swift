import Foundation
import HummingbirdTesting
import Testing

@testable import OpenAIServer

/// Requests as an attacker writes them: fields at their type's extremes, path tricks under
/// `--api-key`, and bytes that are not HTTP. Every answer must be a success or an OpenAI error
/// (4xx with `{"error": {...}}`), never a 5xx; and the server must still answer afterwards.
@Suite struct FuzzTests {
    /// Values of every JSON kind at their extremes, as JSON text.
    static let extremes = [
        "9223372036854775807", "-9223372036854775808", "18446744073709551616", "-1", "0", "1", "1e308", "-1e308",
        "1e-320", "0.5", "NaN", "Infinity", "\"x\"", "null", "true", "[]", "{}", "[9223372036854775807]",
        "[" + Array(repeating: "1", count: 5000).joined(separator: ",") + "]", "{\"1\": 1e308}",
    ]
    static let fields = [
        "max_tokens", "max_completion_tokens", "n", "best_of", "temperature", "top_p", "top_k", "min_p", "seed",
        "min_tokens", "presence_penalty", "frequency_penalty", "repetition_penalty", "stop", "stop_token_ids",
        "logit_bias", "logprobs", "top_logprobs", "response_format", "stream_options", "skip_special_tokens",
        "ignore_eos", "prompt", "messages", "echo", "add_generation_prompt",
    ]

    /// An answer that is a success, or a 4xx whose body is OpenAI's error object.
    static func expectAcceptable(_ response: TestResponse, _ label: String) throws {
        let status = response.status.code
        #expect(status < 500, "\(label): \(status) \(response.text.prefix(200))")
        if status >= 400 {
            let error = try response.json()["error"] as? [String: Any]
            #expect(error?["message"] is String && error?["type"] is String, "\(label): \(response.text.prefix(200))")
        }
    }

    @Test func requestFieldsAtTheirExtremes() async throws {
        try await withServer(try Fixtures.engine()) { client in
            for route in ["/v1/completions", "/v1/chat/completions"] {
                let base = route == "/v1/completions"
                    ? #""prompt": "Hi""# : #""messages": [{"role": "user", "content": "Hi"}]"#
                for stream in [false, true] {
                    for field in Self.fields {
                        for value in Self.extremes {
                            let body = #"{\#(base), "max_tokens": 2, "stream": \#(stream), "\#(field)": \#(value)}"#
                            let response = try await client.post(route, body)
                            try Self.expectAcceptable(response, "\(route) stream=\(stream) \(field)=\(value.prefix(30))")
                        }
                    }
                }
            }
            #expect(try await client.get("/health").status == .ok)
        }
    }

    @Test func hugeCountsAre400sNamingTheField() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.maxN = 16 }) { client in
            for (body, param) in [
                (#"{"prompt": "Hi", "max_tokens": 9223372036854775807}"#, "max_tokens"),
                (#"{"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 9223372036854775807}"#,
                 "max_completion_tokens"),
                (#"{"prompt": ["a", "b", "c"], "n": 4611686018427387904}"#, "n"),
                (#"{"prompt": "Hi", "n": 100000}"#, "n"),
                (#"{"prompt": "Hi", "n": 17}"#, "n"),
            ] {
                let route = body.contains("messages") ? "/v1/chat/completions" : "/v1/completions"
                let error = try await client.post(route, body).error(.badRequest)
                #expect(error["param"] as? String == param, "\(body): \(error)")
            }
            #expect(try await client.post("/v1/completions", #"{"prompt": "Hi", "n": 16, "max_tokens": 1}"#).status == .ok)
        }
    }

    /// The status of one raw request, and its body. The blocking socket calls run on a thread of
    /// their own: on the concurrency pool they could starve the server they wait for.
    static func raw(_ port: Int, _ request: [UInt8]) async throws -> (status: Int, body: String) {
        let text: String = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let connection = try RawHTTPConnection(port: port)
                    defer { connection.close() }
                    try? connection.send(bytes: request)
                    continuation.resume(returning: String(decoding: connection.receiveAll(), as: UTF8.self))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        let statusLine = text.split(separator: "\r\n", maxSplits: 1).first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? -1
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, body)
    }

    @Test func pathTricksNeedTheKey() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.apiKey = "sekrit" }) { client in
            let port = try #require(client.port)
            let guarded = [
                "/v1/models", "//v1/models", "/v1/models/", "/V1/MODELS", "/v1//models", "/v1%2Fmodels", "/%76%31/models",
                "/v1/models?x=1", "///v1///completions", "/v1/chat/completions/", "//v1/chat/completions", "/tokenize",
                "/detokenize", "/v1/./models", "/%2F/v1/models",
            ]
            for path in guarded {
                for method in ["GET", "POST"] {
                    let body = #"{"prompt": "Hi", "max_tokens": 1}"#
                    let request = "\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(method == "POST" ? body.utf8.count : 0)\r\nConnection: close\r\n\r\n"
                        + (method == "POST" ? body : "")
                    let (status, text) = try await Self.raw(port, Array(request.utf8))
                    #expect(status == 401, "\(method) \(path): \(status) \(text.prefix(120))")
                }
            }
            for header in ["Bearer sekrit2", "Bearer sekri", "Basic sekrit", "Bearer", "Bearer  sekrit", "sekrit",
                           "Bearer SEKRIT"] {
                let request = "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: \(header)\r\nConnection: close\r\n\r\n"
                #expect(try await Self.raw(port, Array(request.utf8)).status == 401, "\(header)")
            }
            for header in ["Bearer sekrit", "bearer sekrit"] {
                let request = "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: \(header)\r\nConnection: close\r\n\r\n"
                #expect(try await Self.raw(port, Array(request.utf8)).status == 200, "\(header)")
            }
            for path in ["/health", "/metrics", "/version", "//health"] {
                let request = "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                #expect(try await Self.raw(port, Array(request.utf8)).status == 200, "\(path)")
            }
        }
    }

    @Test func malformedHTTPGetsOpenAIErrors() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.maxBodyBytes = 4096 }) { client in
            let port = try #require(client.port)
            let cases: [(String, [UInt8], Int)] = [
                ("garbage", [0x00, 0x01, 0xFF] + Array("GARBAGE\r\n\r\n".utf8), 400),
                ("bad content-length", Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".utf8), 400),
                ("two content-lengths",
                 Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".utf8), 400),
                ("huge header", Array(("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n").utf8), 431),
                ("bad chunk size",
                 Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".utf8), 400),
                ("body on GET", Array("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".utf8), 400),
                ("body over the limit on GET",
                 Array("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n".utf8) + [UInt8](repeating: 0x61, count: 1_000_000), 413),
                ("body over the limit",
                 Array("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n".utf8) + [UInt8](repeating: 0x61, count: 1_000_000), 413),
                ("not HTTP/1", Array("GET /health HTTP/9.9\r\nHost: x\r\n\r\n".utf8), 400),
            ]
            for (label, bytes, expected) in cases {
                let (status, body) = try await Self.raw(port, bytes)
                #expect(status == expected, "\(label): \(status) \(body.prefix(160))")
                let error = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
                #expect(error?["error"] is [String: Any], "\(label): body \(body.prefix(160))")
            }
            #expect(try await client.get("/health").status == .ok)
        }
    }
}
