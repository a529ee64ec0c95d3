import Engine
import Foundation
import Logging
import ServiceLifecycle

/// Runs beside the HTTP server in its service group: logs a stats line every `interval`
/// while the engine has work, and on graceful shutdown (SIGTERM/SIGINT) — which reaches it
/// after the server has stopped accepting and finished its requests — shuts the engine down.
struct EngineService: Service {
    let engine: any EngineClient
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var previous = engine.stats()
        var previousTime = ContinuousClock.now
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let stats = engine.stats()
            let now = ContinuousClock.now
            let busy = stats.runningRequests + stats.waitingRequests > 0
                || stats.generationTokensTotal != previous.generationTokensTotal
            if busy, !Task.isShuttingDownGracefully {
                logger.info("\(Self.line(stats, since: previous, seconds: (now - previousTime).seconds))")
            }
            previous = stats
            previousTime = now
        }
        logger.info("shutting down the engine")
        await engine.shutdown()
    }

    /// vLLM's stats line: throughput since the last line, queue sizes, KV cache and prefix
    /// cache use.
    static func line(_ stats: EngineStats, since previous: EngineStats, seconds: Double) -> String {
        let prompt = Double(stats.promptTokensTotal - previous.promptTokensTotal) / max(seconds, 1e-9)
        let generation = Double(stats.generationTokensTotal - previous.generationTokensTotal) / max(seconds, 1e-9)
        let queries = stats.prefixCacheQueries - previous.prefixCacheQueries
        let hits = stats.prefixCacheHits - previous.prefixCacheHits
        let hitRate = queries > 0 ? 100 * Double(hits) / Double(queries) : 0
        return String(format: "Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f tokens/s, "
                        + "Running: %d reqs, Waiting: %d reqs, KV cache usage: %.1f%%, Prefix cache hit rate: %.1f%%",
                      prompt, generation, stats.runningRequests, stats.waitingRequests, stats.kvCacheUsage * 100,
                      hitRate)
    }
}
