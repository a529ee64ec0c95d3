import Foundation
import HummingbirdTesting
import NIOCore
@testable import OpenAIServer
import Testing

@Suite struct BenchmarkTests {
    struct StatsCase: Decodable {
        var seconds: [Double]
        var mean_ms: Double
        var median_ms: Double
        var std_ms: Double
        var p99_ms: Double
    }

    @Test func statisticsMatchNumpy() throws {
        let url = Fixtures.folder.appendingPathComponent("benchmark_stats.json")
        let cases = try JSONDecoder().decode([StatsCase].self, from: Data(contentsOf: url))
        for item in cases {
            let (mean, median, std, p99) = BenchmarkReport.stats(item.seconds)
            #expect(abs(mean - item.mean_ms) < 1e-6 * max(1, item.mean_ms))
            #expect(abs(median - item.median_ms) < 1e-6 * max(1, item.median_ms))
            #expect(abs(std - item.std_ms) < 1e-6 * max(1, item.std_ms))
            #expect(abs(p99 - item.p99_ms) < 1e-6 * max(1, item.p99_ms))
        }
    }

    @Test func reportFollowsVLLMDefinitions() {
        let results = [
            BenchmarkRequestResult(success: true, promptTokens: 10, outputTokens: 5, timeToFirstToken: 0.1,
                                   interTokenLatencies: [0.05, 0.05, 0.05, 0.05], latency: 0.3),
            BenchmarkRequestResult(success: true, promptTokens: 10, outputTokens: 1, timeToFirstToken: 0.2,
                                   interTokenLatencies: [], latency: 0.2),
            BenchmarkRequestResult(success: false, promptTokens: 10, outputTokens: 0, timeToFirstToken: 0,
                                   interTokenLatencies: [], latency: 0, error: "HTTP 503"),
        ]
        let report = BenchmarkReport(results: results, duration: 2)
        #expect(report.completed == 2 && report.failed == 1 && report.errors == ["HTTP 503"])
        #expect(report.totalInputTokens == 20 && report.totalOutputTokens == 6)
        #expect(report.requestThroughput == 1 && report.outputThroughput == 3 && report.totalTokenThroughput == 13)
        // TPOT only over requests with more than one token: (0.3 - 0.1) / 4.
        #expect(abs(report.meanTpotMs - 50) < 1e-9)
        #expect(abs(report.meanTtftMs - 150) < 1e-9)
        #expect(abs(report.meanItlMs - 50) < 1e-9)
        #expect(abs(report.medianE2elMs - 250) < 1e-9)
        let json = String(decoding: try! JSONEncoder().encode(report), as: UTF8.self)
        for key in ["completed", "request_throughput", "output_throughput", "total_token_throughput",
                    "mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "p99_itl_ms", "median_e2el_ms"] {
            #expect(json.contains("\"\(key)\""), "\(key)")
        }
        #expect(report.table().contains("Successful requests:"))
    }

    @Test func sseParserSplitsEventsAcrossBuffers() {
        var parser = SSEParser()
        #expect(parser.feed(ByteBuffer(string: "data: {\"a\": 1}\n\ndata: {\"b\"")) == [#"{"a": 1}"#])
        #expect(parser.feed(ByteBuffer(string: ": 2}\n\ndata: [DONE]\n\n")) == [#"{"b": 2}"#, "[DONE]"])
    }

    @Test func benchmarksAServer() async throws {
        let engine = try Fixtures.engine()
        try await withServer(engine) { client in
            var options = ServeBenchmark.Options(baseURL: "http://localhost:\(try #require(client.port))")
            options.numPrompts = 12
            options.inputLength = 6
            options.outputLength = 5
            options.requestRate = 200
            options.maxConcurrency = 4
            options.vocabularySize = 400
            let report = try await ServeBenchmark(options: options).run()
            #expect(report.completed == 12 && report.failed == 0 && report.errors.isEmpty)
            #expect(report.totalInputTokens == 72 && report.totalOutputTokens == 60)
            #expect(report.meanTtftMs > 0 && report.meanE2elMs >= report.meanTtftMs && report.meanTpotMs > 0)
            let requests = engine.submittedRequests
            #expect(requests.count == 12 && requests.allSatisfy { $0.params.ignoreEOS && $0.promptTokenIDs.count == 6 })
            // The same seed gives the same prompts.
            let again = try await ServeBenchmark(options: options).run()
            #expect(again.completed == 12)
            #expect(engine.submittedRequests.suffix(12).map(\.promptTokenIDs).sorted { $0.lexicographicallyPrecedes($1) }
                == requests.map(\.promptTokenIDs).sorted { $0.lexicographicallyPrecedes($1) })
        }
    }
}
