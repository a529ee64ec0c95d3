import ArgumentParser

/// `tern debug`: hidden tools for checking backends against a reference.
struct DebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Tools for checking the model backends.", shouldDisplay: false,
        subcommands: [DebugLogitsCommand.self, DebugNCCLCommand.self])
}
