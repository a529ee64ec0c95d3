import Foundation

/// What one benchmark request measured, in seconds (vLLM's `RequestFuncOutput`).
public struct BenchmarkRequestResult: Sendable {
    public var success: Bool
    public var promptTokens: Int
    /// Generated tokens: the server's `usage.completion_tokens`, else the chunks with a choice.
    public var outputTokens: Int
    /// Send → first streamed chunk with a choice.
    public var timeToFirstToken: Double
    /// Gaps between consecutive chunks with a choice.
    public var interTokenLatencies: [Double]
    /// Send → last chunk.
    public var latency: Double
    public var error: String?

    public init(success: Bool, promptTokens: Int, outputTokens: Int, timeToFirstToken: Double,
                interTokenLatencies: [Double], latency: Double, error: String? = nil) {
        self.success = success
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.timeToFirstToken = timeToFirstToken
        self.interTokenLatencies = interTokenLatencies
        self.latency = latency
        self.error = error
    }
}

/// vLLM benchmark_serving's results, defined as it defines them: throughput over the whole
/// run; TTFT, TPOT ((latency − TTFT) / (output tokens − 1), requests with more than one
/// token), ITL (pooled gaps) and end-to-end latency as mean, median, std and p99 in ms.
public struct BenchmarkReport: Codable, Sendable, Equatable {
    public var duration: Double
    public var completed: Int
    public var failed: Int
    public var totalInputTokens: Int
    public var totalOutputTokens: Int
    public var requestThroughput: Double
    public var outputThroughput: Double
    public var totalTokenThroughput: Double
    public var meanTtftMs, medianTtftMs, stdTtftMs, p99TtftMs: Double
    public var meanTpotMs, medianTpotMs, stdTpotMs, p99TpotMs: Double
    public var meanItlMs, medianItlMs, stdItlMs, p99ItlMs: Double
    public var meanE2elMs, medianE2elMs, stdE2elMs, p99E2elMs: Double
    /// Why each failed request failed.
    public var errors: [String]

    enum CodingKeys: String, CodingKey {
        case duration, completed, failed, errors
        case totalInputTokens = "total_input_tokens", totalOutputTokens = "total_output_tokens"
        case requestThroughput = "request_throughput", outputThroughput = "output_throughput"
        case totalTokenThroughput = "total_token_throughput"
        case meanTtftMs = "mean_ttft_ms", medianTtftMs = "median_ttft_ms", stdTtftMs = "std_ttft_ms"
        case p99TtftMs = "p99_ttft_ms"
        case meanTpotMs = "mean_tpot_ms", medianTpotMs = "median_tpot_ms", stdTpotMs = "std_tpot_ms"
        case p99TpotMs = "p99_tpot_ms"
        case meanItlMs = "mean_itl_ms", medianItlMs = "median_itl_ms", stdItlMs = "std_itl_ms", p99ItlMs = "p99_itl_ms"
        case meanE2elMs = "mean_e2el_ms", medianE2elMs = "median_e2el_ms", stdE2elMs = "std_e2el_ms"
        case p99E2elMs = "p99_e2el_ms"
    }

    /// Summarizes the results of a run that took `duration` seconds.
    public init(results: [BenchmarkRequestResult], duration: Double) {
        let ok = results.filter(\.success)
        self.duration = duration
        completed = ok.count
        failed = results.count - ok.count
        errors = results.compactMap(\.error)
        totalInputTokens = ok.reduce(0) { $0 + $1.promptTokens }
        totalOutputTokens = ok.reduce(0) { $0 + $1.outputTokens }
        requestThroughput = Double(completed) / duration
        outputThroughput = Double(totalOutputTokens) / duration
        totalTokenThroughput = Double(totalInputTokens + totalOutputTokens) / duration

        let ttfts = ok.map(\.timeToFirstToken)
        let tpots = ok.filter { $0.outputTokens > 1 }.map { ($0.latency - $0.timeToFirstToken) / Double($0.outputTokens - 1) }
        let itls = ok.flatMap(\.interTokenLatencies)
        let e2els = ok.map(\.latency)
        (meanTtftMs, medianTtftMs, stdTtftMs, p99TtftMs) = Self.stats(ttfts)
        (meanTpotMs, medianTpotMs, stdTpotMs, p99TpotMs) = Self.stats(tpots)
        (meanItlMs, medianItlMs, stdItlMs, p99ItlMs) = Self.stats(itls)
        (meanE2elMs, medianE2elMs, stdE2elMs, p99E2elMs) = Self.stats(e2els)
    }

    /// Mean, median, population std and p99 of `seconds`, in ms; zeros when empty (as vLLM
    /// reports an empty list).
    static func stats(_ seconds: [Double]) -> (Double, Double, Double, Double) {
        guard !seconds.isEmpty else { return (0, 0, 0, 0) }
        let ms = seconds.map { $0 * 1000 }.sorted()
        let mean = ms.reduce(0, +) / Double(ms.count)
        let variance = ms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ms.count)
        return (mean, percentile(ms, 50), variance.squareRoot(), percentile(ms, 99))
    }

    /// numpy's default (linear) percentile of ascending `sorted` values, `p` in 0...100.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - Double(lower))
    }

    /// The table vLLM prints.
    public func table(title: String = "Serving Benchmark Result") -> String {
        func row(_ name: String, _ value: String) -> String {
            name.padding(toLength: 40, withPad: " ", startingAt: 0) + value.leftPadded(10) + "\n"
        }
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        var text = " \(title) ".centered(50, "=") + "\n"
        text += row("Successful requests:", "\(completed)")
        text += row("Failed requests:", "\(failed)")
        text += row("Benchmark duration (s):", f(duration))
        text += row("Total input tokens:", "\(totalInputTokens)")
        text += row("Total generated tokens:", "\(totalOutputTokens)")
        text += row("Request throughput (req/s):", f(requestThroughput))
        text += row("Output token throughput (tok/s):", f(outputThroughput))
        text += row("Total Token throughput (tok/s):", f(totalTokenThroughput))
        for (title, short, values) in [
            ("Time to First Token", "TTFT", (meanTtftMs, medianTtftMs, p99TtftMs)),
            ("Time per Output Token (excl. 1st token)", "TPOT", (meanTpotMs, medianTpotMs, p99TpotMs)),
            ("Inter-token Latency", "ITL", (meanItlMs, medianItlMs, p99ItlMs)),
            ("End-to-end Latency", "E2EL", (meanE2elMs, medianE2elMs, p99E2elMs)),
        ] {
            text += " \(title) ".centered(50, "-") + "\n"
            text += row("Mean \(short) (ms):", f(values.0))
            text += row("Median \(short) (ms):", f(values.1))
            text += row("P99 \(short) (ms):", f(values.2))
        }
        text += String(repeating: "=", count: 50) + "\n"
        return text
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    fileprivate func centered(_ width: Int, _ pad: Character) -> String {
        guard count < width else { return self }
        let left = (width - count) / 2
        return String(repeating: pad, count: left) + self + String(repeating: pad, count: width - count - left)
    }
}
