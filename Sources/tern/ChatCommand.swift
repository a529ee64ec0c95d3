import ArgumentParser
import Engine
import EngineCore
import Foundation

/// `tern chat`: an interactive conversation in the terminal.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model in the terminal (/reset starts over, /exit or Ctrl-D quits).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "A system message to start the conversation with.")
    var system: String?

    func run() throws {
        let logger = modelOptions.makeLogger()
        let model = try modelOptions.load(logger: logger)
        let chatPrompt = try ChatPrompt(model: model)
        let llm = try LLM(model: model)
        let params = sampling.params(defaultTemperature: 0.7)
        let opening = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        var messages = opening
        let interactive = isatty(STDIN_FILENO) != 0
        if interactive { writeStandardOutput("Chatting with \(model.name). /reset starts over, /exit quits.\n") }

        while true {
            if interactive { writeStandardOutput("> ") }
            guard let line = readLine() else { break }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input == "/exit" || input == "/quit" { break }
            if input == "/reset" {
                messages = opening
                continue
            }
            messages.append(ChatMessage(role: "user", content: input))
            let promptIDs = try chatPrompt.tokenIDs(messages, tokenizer: model.tokenizer)
            if promptIDs.count >= model.maxModelLen {
                writeStandardOutput("[the conversation is longer than the context of \(model.maxModelLen) tokens; /reset to start over]\n")
                messages.removeLast()
                continue
            }
            try llm.add(promptTokenIDs: promptIDs, params: params)
            let completions = try llm.run { output in
                if !output.newText.isEmpty { writeStandardOutput(output.newText) }
            }
            writeStandardOutput("\n")
            messages.append(ChatMessage(role: "assistant", content: completions.first?.text ?? ""))
        }
    }
}
