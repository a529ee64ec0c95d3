import Engine
import EngineCore
import Foundation

/// The server's Prometheus metrics, with vLLM's meanings under the `tern:` prefix.
///
/// Gauges and token counters are read from the engine's `EngineStats` at scrape time; the
/// per-request histograms and the finished-request counter are fed by the server as outputs
/// arrive. Safe to use from any thread.
public final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var timeToFirstToken = Histogram(
        name: "tern:time_to_first_token_seconds", help: "Histogram of time to first token in seconds.",
        bounds: Histogram.timeToFirstTokenBounds)
    private var interTokenLatency = Histogram(
        name: "tern:inter_token_latency_seconds", help: "Histogram of inter-token latency in seconds.",
        bounds: Histogram.interTokenLatencyBounds)
    private var endToEndLatency = Histogram(
        name: "tern:e2e_request_latency_seconds", help: "Histogram of e2e request latency in seconds.",
        bounds: Histogram.requestLatencyBounds)
    private var queueTime = Histogram(
        name: "tern:request_queue_time_seconds", help: "Histogram of time spent in WAITING phase for request.",
        bounds: Histogram.requestLatencyBounds)
    /// Finished requests by finish reason (`stop`, `length`, `abort`).
    private var finished: [FinishReason: Int] = [:]

    public init() {}

    /// Seconds from arrival to the first generated token of one request.
    public func observeTimeToFirstToken(_ seconds: Double) { update { $0.timeToFirstToken.observe(seconds) } }

    /// Seconds between two consecutive outputs of one request.
    public func observeInterTokenLatency(_ seconds: Double) { update { $0.interTokenLatency.observe(seconds) } }

    /// Seconds a request waited before the engine first scheduled it.
    public func observeQueueTime(_ seconds: Double) { update { $0.queueTime.observe(seconds) } }

    /// One request finished `seconds` after it arrived.
    public func observeFinished(_ reason: FinishReason, endToEndSeconds seconds: Double) {
        update {
            $0.endToEndLatency.observe(seconds)
            $0.finished[reason, default: 0] += 1
        }
    }

    /// Requests finished with `reason` so far.
    public func finishedCount(_ reason: FinishReason) -> Int {
        lock.withLock { finished[reason, default: 0] }
    }

    /// The exposition text for `GET /metrics` (content type `text/plain; version=0.0.4`).
    public func render(modelName: String, stats: EngineStats) -> String {
        let labels = "model_name=\"\(PrometheusText.labelValue(modelName))\""
        var text = ""
        func sample(_ name: String, _ type: String, _ help: String, _ value: Double, suffix: String = "") {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name)\(suffix){\(labels)} \(PrometheusText.number(value))\n"
        }
        sample("tern:num_requests_running", "gauge", "Number of requests in model execution batches.",
               Double(stats.runningRequests))
        sample("tern:num_requests_waiting", "gauge", "Number of requests waiting to be processed.",
               Double(stats.waitingRequests))
        sample("tern:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", stats.kvCacheUsage)
        sample("tern:prefix_cache_queries", "counter", "Prefix cache queries, in terms of number of queried tokens.",
               Double(stats.prefixCacheQueries), suffix: "_total")
        sample("tern:prefix_cache_hits", "counter", "Prefix cache hits, in terms of number of cached tokens.",
               Double(stats.prefixCacheHits), suffix: "_total")
        sample("tern:prompt_tokens", "counter", "Number of prefill tokens processed.",
               Double(stats.promptTokensTotal), suffix: "_total")
        sample("tern:generation_tokens", "counter", "Number of generation tokens processed.",
               Double(stats.generationTokensTotal), suffix: "_total")

        lock.withLock {
            text += "# HELP tern:request_success Count of successfully processed requests.\n"
            text += "# TYPE tern:request_success counter\n"
            for reason in [FinishReason.stop, .length, .abort] {
                text += "tern:request_success_total{finished_reason=\"\(reason)\",\(labels)} \(finished[reason, default: 0])\n"
            }
            for histogram in [timeToFirstToken, interTokenLatency, endToEndLatency, queueTime] {
                histogram.render(labels: labels, into: &text)
            }
        }
        return text
    }

    private func update(_ body: (ServerMetrics) -> Void) {
        lock.withLock { body(self) }
    }
}
