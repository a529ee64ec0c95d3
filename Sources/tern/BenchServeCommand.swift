import ArgumentParser
import Foundation
import OpenAIServer

/// `tern bench serve`: vLLM's benchmark_serving against any OpenAI-compatible server.
struct BenchServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load-test an OpenAI-compatible server (TTFT, TPOT, ITL, end-to-end latency, throughput).",
        discussion: """
            Sends --num-prompts streamed /v1/completions requests from --dataset (by default
            --input-len random token ids each, generating --output-len tokens), EOS ignored, and
            reports what vLLM's benchmark_serving reports, defined the same way.
            """)

    @Option(help: "The server, e.g. http://127.0.0.1:8000")
    var baseURL: String

    @Option(help: "Model name to send (default: the first of the server's /v1/models).")
    var model: String?

    @Option(help: ArgumentHelp("""
        random: token ids of --input-len, --output-len; sharegpt-like: random token ids with ShareGPT-like \
        lengths (log-normal, seeded); sharegpt: a ShareGPT JSON file's first turns (--dataset-path); \
        custom: vLLM's JSONL of {"prompt": ...} (--dataset-path).
        """, valueName: "random|sharegpt-like|sharegpt|custom"))
    var dataset = "random"

    @Option(help: "The file of --dataset sharegpt or custom.")
    var datasetPath: String?

    @Option(help: "With --dataset sharegpt: ask every request for this many tokens instead of its answer's length.")
    var sharegptOutputLen: Int?

    @Option(help: "Requests to send.")
    var numPrompts = 100

    @Option(help: "Prompt length in tokens.")
    var inputLen = 128

    @Option(help: "Tokens to generate per request.")
    var outputLen = 128

    @Option(help: "Requests per second, Poisson arrivals; inf sends all at once.")
    var requestRate = "inf"

    @Option(help: "Most requests in flight at once.")
    var maxConcurrency: Int?

    @Option(help: "Seed of the prompts and arrival times.")
    var seed: UInt64 = 0

    @Option(help: "Random prompt token ids are drawn below this (the model's vocabulary size or less).")
    var vocabSize = 32000

    @Option(help: "API key to send as a bearer token.")
    var apiKey: String?

    @Flag(help: "Print the results as JSON (vLLM's keys) instead of a table.")
    var json = false

    func validate() throws {
        guard ["random", "sharegpt-like", "sharegpt", "custom"].contains(dataset) else {
            throw ValidationError("--dataset must be random, sharegpt-like, sharegpt or custom, got \(dataset)")
        }
        if ["sharegpt", "custom"].contains(dataset), datasetPath == nil {
            throw ValidationError("--dataset \(dataset) needs --dataset-path FILE")
        }
        if let sharegptOutputLen, sharegptOutputLen <= 0 { throw ValidationError("--sharegpt-output-len must be > 0") }
        guard numPrompts > 0 else { throw ValidationError("--num-prompts must be > 0") }
        guard inputLen > 0, outputLen > 0 else { throw ValidationError("--input-len and --output-len must be > 0") }
        guard vocabSize > 0 else { throw ValidationError("--vocab-size must be > 0") }
        if let maxConcurrency, maxConcurrency <= 0 { throw ValidationError("--max-concurrency must be > 0") }
        guard (parsedRate ?? 0) > 0 else {
            throw ValidationError("--request-rate must be a positive number or inf, got \(requestRate)")
        }
    }

    private var parsedRate: Double? { requestRate == "inf" ? .infinity : Double(requestRate) }

    func run() throws {
        var options = ServeBenchmark.Options(baseURL: baseURL)
        options.model = model
        options.numPrompts = numPrompts
        options.inputLength = inputLen
        options.outputLength = outputLen
        options.requestRate = parsedRate ?? .infinity
        options.maxConcurrency = maxConcurrency
        options.seed = seed
        options.vocabularySize = vocabSize
        options.apiKey = apiKey
        switch dataset {
        case "sharegpt-like": options.dataset = .shareGPTLike
        case "sharegpt", "custom":
            let path = datasetPath ?? ""
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--dataset-path: cannot read \(path)")
            }
            options.dataset = dataset == "custom" ? .custom(data) : .shareGPT(data, outputLength: sharegptOutputLen)
        default: options.dataset = .random
        }
        let benchmark = ServeBenchmark(options: options)
        let asJSON = json
        try runBlocking {
            let report = try await benchmark.run()
            if asJSON {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.table(), terminator: "")
                if let first = report.errors.first {
                    print("\(report.errors.count) requests failed; the first: \(first)")
                }
            }
        }
    }
}
