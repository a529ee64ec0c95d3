import AsyncHTTPClient
import Engine
import EngineCore
import Foundation
import HummingbirdTesting
import NIOCore
@testable import OpenAIServer
import Testing

@Suite struct LoadTests {
    @Test func twoHundredConcurrentStreamsAllFinish() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            let port = try #require(client.port)
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 200
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        var request = HTTPClientRequest(url: "http://localhost:\(port)/v1/completions")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: #"{"prompt": [\#(index % 300 + 3), 7, 9], "max_tokens": 8, "stream": true}"#))
                        let response = try await http.execute(request, timeout: .seconds(60))
                        return String(buffer: try await response.body.collect(upTo: 1 << 20))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await http.shutdown()
            #expect(bodies.count == 200)
            #expect(bodies.allSatisfy { $0.hasSuffix("data: [DONE]\n\n") && $0.contains("\"finish_reason\":\"length\"") })
            let metrics = try await client.get("/metrics").text
            #expect(metrics.contains("tern:num_requests_running{model_name=\"tiny\"} 0\n"))
            #expect(metrics.contains("tern:kv_cache_usage_perc{model_name=\"tiny\"} 0\n"))
            #expect(metrics.contains("tern:request_success_total{finished_reason=\"length\",model_name=\"tiny\"} 200\n"))
        }
    }

    @Test func metricsTextFormat() {
        let metrics = ServerMetrics()
        metrics.observeQueueTime(0.4)
        metrics.observeQueueTime(12)
        metrics.observeFinished(.stop, endToEndSeconds: 1.2)
        var stats = EngineStats()
        stats.runningRequests = 3
        stats.kvCacheUsage = 0.125
        stats.prefixCacheQueries = 64
        stats.prefixCacheHits = 32
        let text = metrics.render(modelName: "a \"quoted\" name", stats: stats)
        let labels = #"model_name="a \"quoted\" name""#
        #expect(text.contains("# TYPE tern:num_requests_running gauge\ntern:num_requests_running{\(labels)} 3\n"))
        #expect(text.contains("tern:kv_cache_usage_perc{\(labels)} 0.125\n"))
        #expect(text.contains("# TYPE tern:prefix_cache_queries counter\ntern:prefix_cache_queries_total{\(labels)} 64\n"))
        #expect(text.contains("tern:prefix_cache_hits_total{\(labels)} 32\n"))
        #expect(text.contains("tern:request_success_total{finished_reason=\"stop\",\(labels)} 1\n"))
        #expect(text.contains("tern:request_queue_time_seconds_bucket{le=\"0.3\",\(labels)} 0\n"))
        #expect(text.contains("tern:request_queue_time_seconds_bucket{le=\"0.5\",\(labels)} 1\n"))
        #expect(text.contains("tern:request_queue_time_seconds_bucket{le=\"15\",\(labels)} 2\n"))
        #expect(text.contains("tern:request_queue_time_seconds_sum{\(labels)} 12.4\n"))
        #expect(text.contains("tern:request_queue_time_seconds_count{\(labels)} 2\n"))
        #expect(text.contains("tern:e2e_request_latency_seconds_bucket{le=\"1\",\(labels)} 0\n"))
        #expect(text.contains("tern:e2e_request_latency_seconds_bucket{le=\"1.5\",\(labels)} 1\n"))
    }

    @Test func statsLineReadsLikeVLLMs() {
        var before = EngineStats()
        before.promptTokensTotal = 100
        before.generationTokensTotal = 50
        var after = before
        after.promptTokensTotal = 600
        after.generationTokensTotal = 150
        after.runningRequests = 4
        after.waitingRequests = 1
        after.kvCacheUsage = 0.5
        after.prefixCacheQueries = 200
        after.prefixCacheHits = 50
        let line = EngineService.line(after, since: before, seconds: 5)
        #expect(line == "Avg prompt throughput: 100.0 tokens/s, Avg generation throughput: 20.0 tokens/s, Running: 4 reqs, "
            + "Waiting: 1 reqs, KV cache usage: 50.0%, Prefix cache hit rate: 25.0%")
    }
}
