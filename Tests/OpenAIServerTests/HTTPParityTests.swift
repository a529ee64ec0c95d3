import Engine
import EngineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import OpenAIServer
import SpeculativeDecoding
import Testing

/// What a client or proxy built for vLLM expects of the HTTP layer: CORS as Starlette answers
/// it (preflight before the key), a non-JSON body refused, `--root-path`, error codes that are
/// the status, and vLLM's metric families under its own names.
@Suite struct HTTPParityTests {
    @Test func preflightIsAnsweredWithoutTheKey() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.apiKey = "sekrit" }) { client in
            let preflight = try await client.executeRequest(
                uri: "/v1/chat/completions", method: .options,
                headers: [.origin: "https://app.example", .accessControlRequestMethod: "POST",
                          .accessControlRequestHeaders: "authorization, content-type"], body: nil)
            #expect(preflight.status == .ok)
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("POST") == true)
            #expect(preflight.headers[.accessControlAllowHeaders] == "authorization, content-type")
            // A cross-origin call still needs the key, and its answer (an error too) carries CORS.
            let refused = try await client.post("/v1/completions", #"{"prompt": "Hi"}"#,
                                                headers: [.origin: "https://app.example"])
            _ = try refused.error(.unauthorized)
            #expect(refused.headers[.accessControlAllowOrigin] == "*")
            let served = try await client.post("/v1/completions", #"{"prompt": "Hi", "max_tokens": 2}"#,
                                               headers: [.origin: "https://app.example", .authorization: "Bearer sekrit"])
            #expect(served.status == .ok && served.headers[.accessControlAllowOrigin] == "*")
        }
    }

    @Test func originsOutsideTheListAreRefused() async throws {
        try await withServer(try Fixtures.engine(), configure: {
            $0.cors.allowedOrigins = ["https://good.example"]
            $0.cors.allowedMethods = ["GET", "POST"]
            $0.cors.allowCredentials = true
        }) { client in
            func preflight(_ origin: String, _ method: String) async throws -> TestResponse {
                try await client.executeRequest(uri: "/v1/models", method: .options,
                                                headers: [.origin: origin, .accessControlRequestMethod: method], body: nil)
            }
            let good = try await preflight("https://good.example", "POST")
            #expect(good.status == .ok)
            #expect(good.headers[.accessControlAllowOrigin] == "https://good.example", "credentials: the origin, not *")
            #expect(good.headers[.accessControlAllowCredentials] == "true")
            #expect(good.headers[.vary] == "Origin")
            let badOrigin = try await preflight("https://evil.example", "POST")
            #expect(badOrigin.status == .badRequest && badOrigin.text.contains("origin"))
            #expect(badOrigin.headers[.accessControlAllowOrigin] == nil)
            #expect(try await preflight("https://good.example", "DELETE").status == .badRequest)
            let simple = try await client.get("/v1/models", headers: [.origin: "https://evil.example"])
            #expect(simple.status == .ok && simple.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func nonJSONBodiesAre415() async throws {
        try await withServer(try Fixtures.engine()) { client in
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let response = try await client.executeRequest(
                    uri: "/v1/completions", method: .post, headers: [.contentType: contentType],
                    body: ByteBuffer(string: #"{"prompt": "Hi", "max_tokens": 2}"#))
                let error = try response.error(.unsupportedMediaType)
                #expect((error["message"] as? String)?.contains("application/json") == true)
            }
            let withCharset = try await client.executeRequest(
                uri: "/v1/completions", method: .post, headers: [.contentType: "Application/JSON; charset=utf-8"],
                body: ByteBuffer(string: #"{"prompt": "Hi", "max_tokens": 2}"#))
            #expect(withCharset.status == .ok)
            let without = try await client.executeRequest(uri: "/v1/completions", method: .post, headers: [:],
                                                          body: ByteBuffer(string: #"{"prompt": "Hi", "max_tokens": 2}"#))
            #expect(without.status == .ok, "no Content-Type is taken as JSON")
        }
    }

    @Test func theRootPathIsStripped() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.rootPath = "/api"; $0.apiKey = "k" }) { client in
            let auth: HTTPFields = [.authorization: "Bearer k"]
            #expect(try await client.get("/api/v1/models", headers: auth).status == .ok)
            #expect(try await client.get("/v1/models", headers: auth).status == .ok)
            #expect(try await client.get("/api/health").status == .ok, "open routes stay open under the prefix")
            _ = try await client.get("/api/v1/models").error(.unauthorized)
            _ = try await client.get("/apiv1/models", headers: auth).error(.notFound)
        }
    }

    @Test func metricsUnderVLLMNames() async throws {
        try await withServer(try Fixtures.engine(), configure: { $0.vllmMetricNames = true }) { client in
            for _ in 0..<3 {
                #expect(try await client.post("/v1/completions", #"{"prompt": "Hi", "max_tokens": 4, "n": 2}"#).status == .ok)
            }
            let text = try await client.get("/metrics").text
            let labels = #"engine="0",model_name="tiny""#
            #expect(!text.contains("tern:"))
            #expect(text.contains("vllm:num_requests_running{\(labels)} 0\n"))
            #expect(text.contains("vllm:request_success_total{finished_reason=\"length\",\(labels)} 6\n"))
            #expect(text.contains("vllm:request_params_n_bucket{le=\"2\",\(labels)} 3\n"))
            #expect(text.contains("vllm:request_params_max_tokens_sum{\(labels)} 12\n"))
            #expect(text.contains("vllm:request_generation_tokens_sum{\(labels)} 24\n"))
            #expect(text.contains("vllm:request_max_num_generation_tokens_count{\(labels)} 3\n"))
            #expect(text.contains("vllm:request_prompt_tokens_count{\(labels)} 6\n"))
            for family in ["vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds",
                           "vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds",
                           "vllm:request_inference_time_seconds", "vllm:request_prefill_time_seconds",
                           "vllm:request_decode_time_seconds", "vllm:iteration_tokens_total"] {
                #expect(text.contains("# TYPE \(family) histogram\n"), "\(family)")
            }
            for family in ["vllm:num_preemptions_total", "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
                           "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:cache_config_info{"] {
                #expect(text.contains(family), "\(family)")
            }
        }
    }

    @Test func engineCountersRender() {
        let metrics = ServerMetrics(maxModelLen: 100)
        var stats = EngineStats()
        stats.preemptionsTotal = 7
        stats.iterationTokenCounts[0] = 2       // two steps of 1 token
        stats.iterationTokenCounts[3] = 1       // one of 17...32
        stats.iterationTokensSum = 32
        stats.blockSize = 16
        stats.numBlocks = 91
        let text = metrics.render(modelName: "m", stats: stats)
        #expect(text.contains("tern:num_preemptions_total{model_name=\"m\"} 7\n"))
        #expect(text.contains("tern:iteration_tokens_total_bucket{le=\"1\",model_name=\"m\"} 2\n"))
        #expect(text.contains("tern:iteration_tokens_total_bucket{le=\"32\",model_name=\"m\"} 3\n"))
        #expect(text.contains("tern:iteration_tokens_total_sum{model_name=\"m\"} 32\n"))
        #expect(text.contains(#"block_size="16""#) && text.contains(#"num_gpu_blocks="91""#))
        #expect(Histogram.oneTwoFiveBounds(upTo: 100) == [1, 2, 5, 10, 20, 50, 100])
        #expect(!text.contains("spec_decode"), "no speculative families when it is off")
    }

    @Test func speculativeCountersRenderUnderBothNames() {
        var stats = EngineStats()
        var spec = SpeculativeStats()
        spec.record(drafted: 4, accepted: 3)
        spec.record(drafted: 4, accepted: 1)
        spec.draftSeconds = 0.25
        stats.speculative = spec
        let tern = ServerMetrics(maxModelLen: 100).render(modelName: "m", stats: stats)
        #expect(tern.contains("tern:spec_decode_num_drafts_total{model_name=\"m\"} 2\n"))
        #expect(tern.contains("tern:spec_decode_num_draft_tokens_total{model_name=\"m\"} 8\n"))
        #expect(tern.contains("tern:spec_decode_num_accepted_tokens_total{model_name=\"m\"} 4\n"))
        #expect(tern.contains("tern:spec_decode_num_accepted_tokens_per_pos_total{model_name=\"m\",position=\"0\"} 2\n"))
        #expect(tern.contains("tern:spec_decode_num_accepted_tokens_per_pos_total{model_name=\"m\",position=\"2\"} 1\n"))
        #expect(tern.contains("tern:spec_decode_num_accepted_tokens_per_pos_total{model_name=\"m\",position=\"3\"} 0\n"))
        #expect(tern.contains("tern:spec_decode_draft_time_seconds_total{model_name=\"m\"} 0.25\n"))
        let vllm = ServerMetrics(vllmNames: true, maxModelLen: 100).render(modelName: "m", stats: stats)
        #expect(vllm.contains("vllm:spec_decode_num_drafts_total{engine=\"0\",model_name=\"m\"} 2\n"))
    }
}
