import ArgumentParser
import Engine
import EngineCore
import Foundation
import SpeculativeDecoding

/// `tern generate`: one prompt in, its continuation streamed out (or one JSON object).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate a continuation of a prompt.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "The prompt.")
    var prompt: String

    @Flag(help: "Wrap the prompt as a user message in the model's chat template.")
    var chat = false

    @Flag(help: "Print one JSON object at the end (prompt_token_ids, token_ids, text) instead of streaming.")
    var json = false

    @Option(help: SpeculativeArgument.help)
    var speculativeConfig: String?

    func validate() throws {
        _ = try SpeculativeArgument.parse(speculativeConfig)
    }

    func run() throws {
        let logger = modelOptions.makeLogger()
        let speculative = try SpeculativeArgument.parse(speculativeConfig)
        let (model, draft) = try modelOptions.load(logger: logger, speculative: speculative)
        let promptIDs = chat
            ? try ChatPrompt(model: model).tokenIDs([ChatMessage(role: "user", content: prompt)],
                                                    tokenizer: model.tokenizer)
            : model.tokenizer.encode(prompt)
        var options = EngineOptions()
        options.speculative = speculative
        let llm = try LLM(model: model, options: options, draft: draft)
        try llm.add(promptTokenIDs: promptIDs, params: sampling.params(defaultTemperature: 0))

        var timing = GenerationTiming()
        let completions = try llm.run { output in
            if !output.newTokenIDs.isEmpty { timing.recordTokens(output.newTokenIDs.count) }
            if !json && !output.newText.isEmpty { writeStandardOutput(output.newText) }
        }
        guard let completion = completions.first else { return }
        if json {
            let object: [String: Any] = [
                "prompt_token_ids": completion.promptTokenIDs.map(Int.init),
                "token_ids": completion.tokenIDs.map(Int.init),
                "text": completion.text,
                "finish_reason": completion.finishReason.rawValue,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            writeStandardOutput(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            writeStandardOutput("\n")
            timing.report(promptTokens: promptIDs.count)
        }
    }
}

/// Prefill and decode rates of one streamed generation, printed to standard error.
struct GenerationTiming {
    private let start = ContinuousClock.now
    private var firstToken: ContinuousClock.Instant?
    private var last = ContinuousClock.now
    private var tokens = 0

    mutating func recordTokens(_ count: Int) {
        let now = ContinuousClock.now
        if firstToken == nil { firstToken = now }
        last = now
        tokens += count
    }

    func report(promptTokens: Int) {
        guard let firstToken else { return }
        let prefill = (firstToken - start).seconds
        let decode = (last - firstToken).seconds
        var line = String(format: "[%d prompt tokens in %.3f s: %.1f tokens/s", promptTokens, prefill,
                          Double(promptTokens) / max(prefill, 1e-9))
        if tokens > 1 {
            line += String(format: "; %d tokens generated at %.1f tokens/s", tokens, Double(tokens - 1) / max(decode, 1e-9))
        }
        FileHandle.standardError.write(Data((line + "]\n").utf8))
    }
}

func writeStandardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
