import Foundation

/// A Prometheus histogram: cumulative counts of observations at or below each bucket's upper
/// bound, plus their count and sum. A value type; `ServerMetrics` keeps it under its lock.
struct Histogram: Sendable {
    let name: String
    let help: String
    /// Upper bounds (seconds, or tokens), ascending; `+Inf` is implied.
    let bounds: [Double]
    /// Observations per bucket (not cumulative); the last entry is the `+Inf` bucket.
    private(set) var counts: [Int]
    private(set) var sum: Double = 0
    private(set) var count = 0

    init(name: String, help: String, bounds: [Double]) {
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "histogram bounds must ascend")
        self.name = name
        self.help = help
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    /// A histogram counted elsewhere: `counts` per bucket of `bounds` and one beyond.
    init(name: String, help: String, bounds: [Double], counts: [Int], sum: Double) {
        self.init(name: name, help: help, bounds: bounds)
        if counts.count == bounds.count + 1 {
            self.counts = counts
            count = counts.reduce(0, +)
            self.sum = sum
        }
    }

    mutating func observe(_ value: Double) {
        let bucket = bounds.firstIndex { value <= $0 } ?? bounds.count
        counts[bucket] += 1
        sum += value
        count += 1
    }

    /// The `_bucket`, `_sum` and `_count` lines with `labels` (already rendered, e.g.
    /// `model_name="m"`) on each.
    func render(labels: String, into text: inout String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += counts[index]
            text += "\(name)_bucket{le=\"\(PrometheusText.number(bound))\",\(labels)} \(cumulative)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\",\(labels)} \(count)\n"
        text += "\(name)_sum{\(labels)} \(PrometheusText.number(sum))\n"
        text += "\(name)_count{\(labels)} \(count)\n"
    }

    /// vLLM's buckets for token counts: 1, 2, 5, 10, 20, 50... up to `limit`.
    static func oneTwoFiveBounds(upTo limit: Int) -> [Double] {
        var bounds: [Double] = []
        var scale = 1
        while true {
            for step in [1, 2, 5] {
                let value = step * scale
                if value > limit { return bounds }
                bounds.append(Double(value))
            }
            if scale > Int.max / 100 { return bounds }
            scale *= 10
        }
    }

    /// vLLM's buckets for time to first token, in seconds.
    static let timeToFirstTokenBounds: [Double] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
        160.0, 640.0, 2560.0,
    ]
    /// vLLM's buckets for inter-token latency, in seconds.
    static let interTokenLatencyBounds: [Double] = [
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    ]
    /// vLLM's buckets for whole-request times (end-to-end latency, queue time), in seconds.
    static let requestLatencyBounds: [Double] = [
        0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
        1920.0, 7680.0,
    ]
}

/// Formatting rules of the Prometheus text exposition format (version 0.0.4).
enum PrometheusText {
    /// A sample value: integers without a fraction, everything else in Swift's shortest form.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func labelValue(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
