import ArgumentParser

/// `tern bench`: the benchmarks, with vLLM's definitions.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure throughput and latency.",
        subcommands: [BenchThroughputCommand.self, BenchLatencyCommand.self, BenchServeCommand.self])
}
