import ArgumentParser
import Engine
import EngineCore
import Foundation
import SpeculativeDecoding
import OrderedJSON
import StructuredOutputs

/// `tern bench throughput`: offline, many random-token prompts through one engine.
struct BenchThroughputCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput", abstract: "Offline throughput over random-token prompts (EOS ignored).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var engineOptions: EngineArguments

    @Option(help: "Number of prompts.") var numPrompts = 64
    @Option(help: "Tokens per prompt (after the shared prefix, for shared-prefix).") var inputLen = 128
    @Option(help: "Tokens generated per prompt.") var outputLen = 64
    @Option(help: "random or shared-prefix.") var dataset: BenchDataset = .random
    @Option(help: "Tokens of the prefix every prompt shares (shared-prefix).") var prefixLen = 384
    @Option(help: "Seed of the prompts.") var seed: UInt64 = 0
    @Flag(help: "Constrain every request with a JSON schema (structured outputs); EOS then ends a request where the schema may end.")
    var structured = false
    @Option(help: "The JSON Schema file --structured uses (default: an object with a list of strings, so outputs run long).")
    var schema: String?
    @Flag(help: "Print one JSON object.") var json = false

    /// The default schema of --structured: open-ended enough that outputs reach --output-len.
    static let defaultSchema = #"{"type": "object", "properties": {"title": {"type": "string"}, "items": {"type": "array", "items": {"type": "string"}}}, "required": ["title", "items"]}"#

    func run() throws {
        let logger = modelOptions.makeLogger()
        let options = engineOptions.engineOptions
        let (model, draft) = try modelOptions.load(logger: logger, speculative: options.speculative)
        let llm = try LLM(model: model, options: options, draft: draft)
        let prompts = BenchPrompts.make(count: numPrompts, inputLength: inputLen,
                                        prefixLength: dataset == .sharedPrefix ? prefixLen : 0,
                                        tokenizer: model.tokenizer, vocabularySize: model.config.vocabularySize,
                                        seed: seed)
        var grammar: CompiledGrammar?
        var compileSeconds = 0.0
        if structured {
            let text = try schema.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? Self.defaultSchema
            let compiler = GrammarCompiler(vocabulary: TokenVocabulary(
                tokenBytes: model.tokenizer.allTokenBytes(), eosTokenIDs: model.eosTokenIDs))
            let compileStart = ContinuousClock.now
            grammar = try compiler.compile(.jsonSchema(try JSON(parsing: text)))
            compileSeconds = (ContinuousClock.now - compileStart).seconds
        }
        // A structured output ends where its schema does, so EOS is not ignored there.
        let params = SamplingParams(temperature: 1, ignoreEOS: !structured, maxTokens: outputLen)
        for prompt in prompts { try llm.add(promptTokenIDs: prompt, params: params, grammar: grammar) }

        var progress = BenchProgress(total: numPrompts, enabled: !json)
        let start = ContinuousClock.now
        let completions = try llm.run { output in
            if output.finishReason != nil { progress.advance() }
        }
        let elapsed = (ContinuousClock.now - start).seconds
        progress.finish()

        let promptTokens = completions.reduce(0) { $0 + $1.promptTokenIDs.count }
        let outputTokens = completions.reduce(0) { $0 + $1.tokenIDs.count }
        let report: [(String, Double)] = [
            ("elapsed_time", elapsed),
            ("num_requests", Double(completions.count)),
            ("total_num_tokens", Double(promptTokens + outputTokens)),
            ("requests_per_second", Double(completions.count) / elapsed),
            ("tokens_per_second", Double(promptTokens + outputTokens) / elapsed),
            ("output_tokens_per_second", Double(outputTokens) / elapsed),
        ] + (structured ? [
            ("schema_compile_ms", compileSeconds * 1000),
            ("mask_us_per_token", llm.engine.runner.maskTime.seconds * 1e6 / Double(max(llm.engine.runner.maskedTokens, 1))),
        ] : [])
        try BenchReport.print(report, json: json, title: "Throughput (\(dataset.rawValue), \(numPrompts) x \(dataset == .sharedPrefix ? "\(prefixLen)+" : "")\(inputLen) in, \(outputLen) out)")
    }
}

enum BenchDataset: String, ExpressibleByArgument, CaseIterable {
    case random
    case sharedPrefix = "shared-prefix"
}

/// Engine sizes with vLLM's flag names.
struct EngineArguments: ParsableArguments {
    @Option(help: "Most sequences in one step.") var maxNumSeqs = 64
    @Option(help: "Most tokens in one step (the chunked-prefill budget).") var maxNumBatchedTokens = 512
    @Flag(name: .customLong("no-enable-prefix-caching"), help: "Turn automatic prefix caching off.")
    var noPrefixCaching = false
    @Option(help: SpeculativeArgument.help) var speculativeConfig: String?

    func validate() throws {
        guard maxNumSeqs > 0 else { throw ValidationError("--max-num-seqs must be > 0") }
        guard maxNumBatchedTokens > 0 else { throw ValidationError("--max-num-batched-tokens must be > 0") }
        _ = try SpeculativeArgument.parse(speculativeConfig)
    }

    var engineOptions: EngineOptions {
        var options = EngineOptions()
        options.maxNumSeqs = maxNumSeqs
        options.maxNumBatchedTokens = maxNumBatchedTokens
        options.enablePrefixCaching = !noPrefixCaching
        // Checked by validate().
        options.speculative = try? SpeculativeArgument.parse(speculativeConfig)
        return options
    }
}

/// `--speculative-config`: vLLM's JSON, parsed into a `SpeculativeConfig`.
enum SpeculativeArgument {
    static let help = ArgumentHelp(
        "Speculative decoding, as vLLM's JSON: '{\"method\": \"ngram\", \"num_speculative_tokens\": 4, \"prompt_lookup_max\": 4}'.")

    static func parse(_ text: String?) throws -> SpeculativeConfig? {
        guard let text else { return nil }
        do {
            return try SpeculativeConfig(json: text)
        } catch {
            throw ValidationError("--speculative-config: \(error.message)")
        }
    }
}
