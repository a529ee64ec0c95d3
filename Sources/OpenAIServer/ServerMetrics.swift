import Engine
import EngineCore
import Foundation
import SpeculativeDecoding

/// The server's Prometheus metrics: every family vLLM's frontend and engine export, with
/// vLLM's meanings and buckets, under `tern:` or, with `vllmNames` (`--metrics-vllm-names`),
/// under vLLM's own `vllm:` names and labels (`model_name`, `engine`), so that the dashboards
/// and routers built for vLLM read Tern unchanged.
///
/// Gauges, token counters, preemptions and tokens per step are read from the engine's
/// `EngineStats` at scrape time; the per-request histograms and the finished-request counter
/// are fed by the server as outputs arrive. Safe to use from any thread.
public final class ServerMetrics: @unchecked Sendable {
    /// `tern` or `vllm`.
    public let prefix: String
    private let vllmNames: Bool
    private let maxModelLen: Int
    private let lock = NSLock()
    private var histograms: [String: Histogram] = [:]
    /// Finished requests by finish reason (`stop`, `length`, `abort`).
    private var finished: [FinishReason: Int] = [:]

    /// - Parameter maxModelLen: the largest token count (the token-count histograms' buckets
    ///   are vLLM's 1-2-5 series up to it).
    public init(vllmNames: Bool = false, maxModelLen: Int = 8192) {
        self.vllmNames = vllmNames
        prefix = vllmNames ? "vllm" : "tern"
        self.maxModelLen = max(1, maxModelLen)
        let tokens = Histogram.oneTwoFiveBounds(upTo: self.maxModelLen)
        for (name, help, bounds) in [
            ("time_to_first_token_seconds", "Histogram of time to first token in seconds.", Histogram.timeToFirstTokenBounds),
            ("inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", Histogram.interTokenLatencyBounds),
            ("e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", Histogram.requestLatencyBounds),
            ("request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", Histogram.requestLatencyBounds),
            ("request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", Histogram.requestLatencyBounds),
            ("request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", Histogram.requestLatencyBounds),
            ("request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", Histogram.requestLatencyBounds),
            ("request_prompt_tokens", "Number of prefill tokens processed.", tokens),
            ("request_generation_tokens", "Number of generation tokens processed.", tokens),
            ("request_max_num_generation_tokens", "Histogram of maximum number of requested generation tokens.", tokens),
            ("request_params_n", "Histogram of the n request parameter.", [1, 2, 5, 10, 20]),
            ("request_params_max_tokens", "Histogram of the max_tokens request parameter.", tokens),
        ] as [(String, String, [Double])] {
            histograms[name] = Histogram(name: "\(prefix):\(name)", help: help, bounds: bounds)
        }
    }

    /// Seconds from arrival to the first generated token of one request.
    public func observeTimeToFirstToken(_ seconds: Double) { observe("time_to_first_token_seconds", seconds) }

    /// Seconds between two consecutive outputs of one request.
    public func observeInterTokenLatency(_ seconds: Double) { observe("inter_token_latency_seconds", seconds) }

    /// Seconds a request waited before the engine first scheduled it.
    public func observeQueueTime(_ seconds: Double) { observe("request_queue_time_seconds", seconds) }

    /// An API request's parameters, once per request (not per choice).
    public func observeParameters(n: Int, maxTokens: Int) {
        update {
            $0.histograms["request_params_n"]!.observe(Double(n))
            $0.histograms["request_params_max_tokens"]!.observe(Double(maxTokens))
        }
    }

    /// The most tokens one choice of an API request generated, once the request is done.
    public func observeMaxGenerationTokens(_ tokens: Int) { observe("request_max_num_generation_tokens", Double(tokens)) }

    /// One request (one choice) finished `seconds` after it arrived.
    public func observeFinished(_ reason: FinishReason, endToEndSeconds seconds: Double) {
        observeFinished(reason, timing: RequestTiming(endToEnd: seconds), promptTokens: nil, generationTokens: nil)
    }

    /// When a finished request's phases ended, in seconds from its arrival.
    public struct RequestTiming: Sendable {
        public var endToEnd: Double
        /// Until the engine first scheduled it.
        public var queue: Double?
        /// Until its first generated token.
        public var firstToken: Double?

        public init(endToEnd: Double, queue: Double? = nil, firstToken: Double? = nil) {
            self.endToEnd = endToEnd
            self.queue = queue
            self.firstToken = firstToken
        }
    }

    /// One request (one choice) finished: its latency, phase times and token counts.
    public func observeFinished(_ reason: FinishReason, timing: RequestTiming, promptTokens: Int?,
                                generationTokens: Int?) {
        update {
            $0.histograms["e2e_request_latency_seconds"]!.observe(timing.endToEnd)
            $0.finished[reason, default: 0] += 1
            if let queue = timing.queue {
                $0.histograms["request_inference_time_seconds"]!.observe(max(0, timing.endToEnd - queue))
                if let first = timing.firstToken {
                    $0.histograms["request_prefill_time_seconds"]!.observe(max(0, first - queue))
                }
            }
            if let first = timing.firstToken {
                $0.histograms["request_decode_time_seconds"]!.observe(max(0, timing.endToEnd - first))
            }
            if let promptTokens { $0.histograms["request_prompt_tokens"]!.observe(Double(promptTokens)) }
            if let generationTokens { $0.histograms["request_generation_tokens"]!.observe(Double(generationTokens)) }
        }
    }

    /// Requests finished with `reason` so far.
    public func finishedCount(_ reason: FinishReason) -> Int {
        lock.withLock { finished[reason, default: 0] }
    }

    /// The exposition text for `GET /metrics` (content type `text/plain; version=0.0.4`).
    public func render(modelName: String, stats: EngineStats) -> String {
        let model = "model_name=\"\(PrometheusText.labelValue(modelName))\""
        let labels = vllmNames ? "engine=\"0\",\(model)" : model
        var text = ""
        func sample(_ name: String, _ type: String, _ help: String, _ value: Double, suffix: String = "") {
            let full = "\(prefix):\(name)"
            text += "# HELP \(full) \(help)\n# TYPE \(full) \(type)\n\(full)\(suffix){\(labels)} \(PrometheusText.number(value))\n"
        }
        sample("num_requests_running", "gauge", "Number of requests in model execution batches.",
               Double(stats.runningRequests))
        sample("num_requests_waiting", "gauge", "Number of requests waiting to be processed.",
               Double(stats.waitingRequests))
        sample("kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", stats.kvCacheUsage)
        sample("prefix_cache_queries", "counter", "Prefix cache queries, in terms of number of queried tokens.",
               Double(stats.prefixCacheQueries), suffix: "_total")
        sample("prefix_cache_hits", "counter", "Prefix cache hits, in terms of number of cached tokens.",
               Double(stats.prefixCacheHits), suffix: "_total")
        sample("num_preemptions", "counter", "Cumulative number of preemption from the engine.",
               Double(stats.preemptionsTotal), suffix: "_total")
        sample("prompt_tokens", "counter", "Number of prefill tokens processed.",
               Double(stats.promptTokensTotal), suffix: "_total")
        sample("generation_tokens", "counter", "Number of generation tokens processed.",
               Double(stats.generationTokensTotal), suffix: "_total")
        if let spec = stats.speculative {
            // vLLM's spec_decode families, and the time proposing and verifying.
            sample("spec_decode_num_drafts", "counter", "Number of spec decoding drafts.", Double(spec.numDrafts),
                   suffix: "_total")
            sample("spec_decode_num_draft_tokens", "counter", "Number of draft tokens.", Double(spec.numDraftTokens),
                   suffix: "_total")
            sample("spec_decode_num_accepted_tokens", "counter", "Number of accepted tokens.",
                   Double(spec.numAcceptedTokens), suffix: "_total")
            let perPosition = "\(prefix):spec_decode_num_accepted_tokens_per_pos"
            text += "# HELP \(perPosition) Accepted tokens per draft's positions.\n# TYPE \(perPosition) counter\n"
            for (position, count) in spec.acceptedPerPosition.enumerated() {
                text += "\(perPosition)_total{\(labels),position=\"\(position)\"} \(count)\n"
            }
            sample("spec_decode_draft_time_seconds", "counter", "Time spent proposing drafts.", spec.draftSeconds,
                   suffix: "_total")
            sample("spec_decode_verify_time_seconds", "counter", "Time of the forward passes that verified drafts.",
                   spec.verifySeconds, suffix: "_total")
        }
        let info = "\(prefix):cache_config_info"
        text += "# HELP \(info) Information of the LLMEngine CacheConfig\n# TYPE \(info) gauge\n"
        text += "\(info){block_size=\"\(stats.blockSize)\",enable_prefix_caching=\"\(stats.enablePrefixCaching ? "True" : "False")\","
            + "\(labels),max_num_batched_tokens=\"\(stats.maxNumBatchedTokens)\",max_num_seqs=\"\(stats.maxNumSeqs)\","
            + "num_gpu_blocks=\"\(stats.numBlocks)\"} 1\n"
        Histogram(name: "\(prefix):iteration_tokens_total", help: "Histogram of number of tokens per engine_step.",
                  bounds: EngineStats.iterationTokenBounds.map(Double.init), counts: stats.iterationTokenCounts,
                  sum: Double(stats.iterationTokensSum))
            .render(labels: labels, into: &text)

        lock.withLock {
            let success = "\(prefix):request_success"
            text += "# HELP \(success) Count of successfully processed requests.\n"
            text += "# TYPE \(success) counter\n"
            for reason in [FinishReason.stop, .length, .abort] {
                text += "\(success)_total{finished_reason=\"\(reason)\",\(labels)} \(finished[reason, default: 0])\n"
            }
            for name in histograms.keys.sorted() { histograms[name]!.render(labels: labels, into: &text) }
        }
        return text
    }

    private func observe(_ name: String, _ value: Double) { update { $0.histograms[name]!.observe(value) } }

    private func update(_ body: (ServerMetrics) -> Void) {
        lock.withLock { body(self) }
    }
}
