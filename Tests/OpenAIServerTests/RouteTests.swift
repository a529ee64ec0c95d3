import Foundation
import Hummingbird
import HummingbirdTesting
import OpenAIServer
import Testing

@Suite struct RouteTests {
    @Test func modelsListsTheServedModel() async throws {
        try await withServer(try Fixtures.engine(maxModelLen: 96)) { client in
            let response = try await client.get("/v1/models")
            #expect(response.status == .ok)
            let json = try response.json()
            #expect(json["object"] as? String == "list")
            let data = try #require(json["data"] as? [[String: Any]])
            #expect(data.count == 1)
            #expect(data[0]["id"] as? String == "tiny")
            #expect(data[0]["object"] as? String == "model")
            #expect(data[0]["created"] as? Int == 1_700_000_000)
            #expect(data[0]["owned_by"] as? String == "tern")
            #expect(data[0]["max_model_len"] as? Int == 96)
        }
    }

    @Test func versionAndHealth() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            let version = try await client.get("/version")
            #expect(try version.json()["version"] as? String == TernVersion.string)
            #expect(try await client.get("/health").status == .ok)
            engine.setAlive(false)
            let dead = try await client.get("/health").error(.serviceUnavailable)
            #expect((dead["message"] as? String)?.contains("stopped") == true)
        }
    }

    @Test func healthFailsWhenTheLoopStallsWithWork() async throws {
        let engine = try Fixtures.engine()
        engine.holding = true
        try await withServer(engine, configure: { $0.heartbeatTimeout = .seconds(1) }) { client in
            // Idle with an old heartbeat is healthy: the loop sleeps when there is nothing to do.
            engine.setHeartbeat(.now - .seconds(60))
            #expect(try await client.get("/health").status == .ok)
            async let pending = client.post("/v1/completions", #"{"prompt": "Hello", "max_tokens": 2}"#)
            while engine.submittedRequests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            let stalled = try await client.get("/health").error(.serviceUnavailable)
            #expect((stalled["message"] as? String)?.contains("not advanced") == true)
            engine.setHeartbeat(.now)
            #expect(try await client.get("/health").status == .ok)
            engine.release()
            #expect(try await pending.status == .ok)
        }
    }

    @Test func tokenizeMatchesHuggingFace() async throws {
        let expected = try Fixtures.expected()
        try await withServer(try Fixtures.engine()) { client in
            for prompt in expected.prompts {
                let body = try String(decoding: JSONSerialization.data(withJSONObject: [
                    "prompt": prompt.prompt, "add_special_tokens": false,
                ]), as: UTF8.self)
                let json = try await client.post("/tokenize", body).json()
                #expect(json["tokens"] as? [Int] == prompt.ids, "\(prompt.prompt)")
                #expect(json["count"] as? Int == prompt.ids.count)
                #expect(json["max_model_len"] as? Int == 128)

                let detokenized = try await client.post("/detokenize", "{\"tokens\": \(prompt.ids)}").json()
                #expect(detokenized["prompt"] as? String == prompt.decoded)
            }
            for chat in expected.chats {
                let body = try String(decoding: JSONSerialization.data(withJSONObject: ["messages": chat.messages]),
                                      as: UTF8.self)
                let json = try await client.post("/tokenize", body).json()
                #expect(json["tokens"] as? [Int] == chat.ids)
            }
        }
    }

    @Test func tokenizeRejectsBadInput() async throws {
        try await withServer(try Fixtures.engine()) { client in
            _ = try await client.post("/tokenize", #"{"model": "tiny"}"#).error(.badRequest)
            let bad = try await client.post("/detokenize", #"{"tokens": [1, 100000]}"#).error(.badRequest)
            #expect(bad["param"] as? String == "tokens")
            _ = try await client.post("/detokenize", #"{"model": "other", "tokens": [1]}"#).error(.notFound)
        }
    }

    @Test func metricsExposeEngineStatsAndRequestHistograms() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            for _ in 0..<3 {
                #expect(try await client.post("/v1/completions", #"{"prompt": "Hello, world!", "max_tokens": 4}"#).status == .ok)
            }
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let lines = response.text.split(separator: "\n").map(String.init)
            func value(_ sample: String) -> Double? {
                lines.first { $0.hasPrefix(sample + " ") }.flatMap { Double($0.split(separator: " ").last!) }
            }
            let labels = #"{model_name="tiny"}"#
            #expect(value("tern:num_requests_running" + labels) == 0)
            #expect(value("tern:num_requests_waiting" + labels) == 0)
            #expect(value("tern:kv_cache_usage_perc" + labels) == 0)
            #expect(value("tern:prompt_tokens_total" + labels) == 21.0)
            #expect(value("tern:prefix_cache_queries_total" + labels) == 0)
            #expect(value("tern:prefix_cache_hits_total" + labels) == 0)
            #expect(value("tern:generation_tokens_total" + labels) == 0)
            #expect(value(#"tern:request_success_total{finished_reason="length",model_name="tiny"}"#) == 3)
            #expect(value(#"tern:request_success_total{finished_reason="stop",model_name="tiny"}"#) == 0)
            #expect(value("tern:time_to_first_token_seconds_count" + labels) == 3)
            #expect(value("tern:inter_token_latency_seconds_count" + labels) == 9)
            #expect(value("tern:e2e_request_latency_seconds_count" + labels) == 3)
            #expect(value(#"tern:e2e_request_latency_seconds_bucket{le="+Inf",model_name="tiny"}"#) == 3)
            #expect(value("tern:request_queue_time_seconds_count" + labels) != nil)
            for name in ["num_requests_running", "kv_cache_usage_perc", "time_to_first_token_seconds",
                         "inter_token_latency_seconds", "e2e_request_latency_seconds", "request_queue_time_seconds"] {
                #expect(lines.contains { $0.hasPrefix("# TYPE tern:\(name) ") }, "\(name)")
            }
            // Buckets are cumulative and end at the count.
            let buckets = lines.filter { $0.hasPrefix("tern:time_to_first_token_seconds_bucket") }
                .compactMap { Double($0.split(separator: " ").last!) }
            #expect(buckets == buckets.sorted() && buckets.last == 3 && buckets.count == 23)
        }
    }

    @Test func gracefulShutdownStopsTheEngine() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            let health = try await client.get("/health")
            #expect(health.status == .ok)
        }
        // The test framework ends with a graceful shutdown, which reaches the engine service.
        #expect(!engine.stats().isAlive)
    }

    @Test func unknownRouteIsAnOpenAI404() async throws {
        try await withServer(try Fixtures.engine()) { client in
            let error = try await client.get("/v1/engines").error(.notFound)
            #expect((error["message"] as? String)?.contains("/v1/engines") == true)
        }
    }
}
