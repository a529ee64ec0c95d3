import ArgumentParser
import Engine
import EngineCore
import Foundation
import OpenAIServer

/// `tern bench latency`: one batch of B prompts end to end, repeated; per-sequence prefill
/// and decode rates as `llama-bench` reports them (pp and tg).
struct BenchLatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency", abstract: "Latency of one batch: time to first token and decode rate.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var engineOptions: EngineArguments

    @Option(help: "Sequences in the batch.") var batchSize = 1
    @Option(help: "Prompt tokens per sequence.") var inputLen = 512
    @Option(help: "Tokens generated per sequence.") var outputLen = 128
    @Option(help: "Untimed runs first.") var numItersWarmup = 1
    @Option(help: "Timed runs.") var numIters = 3
    @Option(help: "Seed of the prompts.") var seed: UInt64 = 0
    @Option(help: "Sampling temperature (0: greedy).") var temperature: Float = 1
    @Option(help: ArgumentHelp("Prompts from a JSONL file (a \"prompt\" text a line) instead of random tokens; each run takes the next --batch-size of them, in order, round the file.", valueName: "FILE"))
    var datasetPath: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard batchSize > 0, inputLen > 0, outputLen > 0, numIters > 0, numItersWarmup >= 0 else {
            throw ValidationError("--batch-size, --input-len, --output-len and --num-iters must be > 0")
        }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be >= 0") }
    }

    /// The prompts of the JSONL file, tokenized.
    private func filePrompts(_ model: LoadedModel) throws -> [[Int32]]? {
        guard let datasetPath else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: datasetPath))
        return try BenchmarkDataset.custom(data, count: .max, outputLength: outputLen).map { item in
            switch item.prompt {
            case .text(let text): model.tokenizer.encode(text)
            case .tokens(let ids): ids.map(Int32.init)
            }
        }
    }

    func run() throws {
        let logger = modelOptions.makeLogger()
        var options = engineOptions.engineOptions
        options.maxNumBatchedTokens = max(options.maxNumBatchedTokens, batchSize)
        let (model, draft) = try modelOptions.load(logger: logger, speculative: options.speculative)
        let llm = try LLM(model: model, options: options, draft: draft)
        let params = SamplingParams(temperature: temperature, ignoreEOS: true, maxTokens: outputLen)
        let fromFile = try filePrompts(model)
        var promptTokens = 0

        var latencies: [Double] = []
        var prefillRates: [Double] = []
        var decodeRates: [Double] = []
        var progress = BenchProgress(total: numItersWarmup + numIters, enabled: !json)
        for iteration in 0 ..< numItersWarmup + numIters {
            // Fresh prompts each run, so the prefix cache never serves a timed prefill.
            let prompts = fromFile.map { file in
                (0 ..< batchSize).map { file[(iteration * batchSize + $0) % file.count] }
            } ?? BenchPrompts.make(count: batchSize, inputLength: inputLen, prefixLength: 0,
                                   tokenizer: model.tokenizer, vocabularySize: model.config.vocabularySize,
                                   seed: seed &+ UInt64(iteration) &* 7919)
            for prompt in prompts { try llm.add(promptTokenIDs: prompt, params: params) }
            var firstToken: [String: ContinuousClock.Instant] = [:]
            var lastToken: [String: ContinuousClock.Instant] = [:]
            let start = ContinuousClock.now
            _ = try llm.run { output in
                guard !output.newTokenIDs.isEmpty else { return }
                let now = ContinuousClock.now
                if firstToken[output.requestID] == nil { firstToken[output.requestID] = now }
                lastToken[output.requestID] = now
            }
            let end = ContinuousClock.now
            progress.advance()
            guard iteration >= numItersWarmup else { continue }
            latencies.append((end - start).seconds)
            promptTokens = prompts.reduce(0) { $0 + $1.count }
            for (id, first) in firstToken {
                let ttft = (first - start).seconds
                prefillRates.append(Double(promptTokens / batchSize) / ttft)
                if outputLen > 1, let last = lastToken[id] {
                    decodeRates.append(Double(outputLen - 1) / (last - first).seconds)
                }
            }
        }
        progress.finish()
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        var rows: [(String, Double)] = [
            ("avg_latency", mean(latencies)),
            ("prefill_tokens_per_second", mean(prefillRates)),
            ("decode_tokens_per_second", mean(decodeRates)),
        ]
        if let stats = llm.engine.speculativeStats {
            rows += [("spec_acceptance_rate", stats.acceptanceRate), ("spec_mean_accepted_length", stats.meanAcceptedLength),
                     ("spec_draft_tokens", Double(stats.numDraftTokens))]
        }
        let input = fromFile == nil ? "\(inputLen)" : "~\(promptTokens / batchSize)"
        try BenchReport.print(rows, json: json,
                              title: "Latency (batch \(batchSize), \(input) in, \(outputLen) out, \(numIters) runs)")
    }
}
