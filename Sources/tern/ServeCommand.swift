import ArgumentParser
import Dispatch
import Foundation
import Engine
import Logging
import OpenAIServer
import SpeculativeDecoding
import ToolParsing

/// `tern serve [MODEL]`: the OpenAI-compatible server, with vLLM's flag names.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions...).",
        discussion: """
            Try it with: curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
              -d '{"messages": [{"role": "user", "content": "Hello!"}]}'
            SIGTERM or Ctrl-C stops taking requests, finishes those in flight, then exits.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8000

    @Option(help: "Require this key as `Authorization: Bearer <key>` on every route but /health, /metrics and /version.")
    var apiKey: String?

    @Option(help: "The model name clients send and see (default: the model argument, or smollm2-135m-instruct).")
    var servedModelName: String?

    @Option(help: "Most requests in one engine step.")
    var maxNumSeqs = 64

    @Option(help: "Most tokens in one engine step (prompt chunks and decodes together).")
    var maxNumBatchedTokens = 512

    @Flag(name: .customLong("no-enable-prefix-caching"), help: "Turn automatic prefix caching off.")
    var disablePrefixCaching = false

    @Option(help: SpeculativeArgument.help)
    var speculativeConfig: String?

    @Option(help: "Requests that may wait for the engine; beyond this new requests get HTTP 503.")
    var maxWaitingRequests = 1024

    @Option(help: "Largest request body in bytes (HTTP 413 beyond).")
    var maxBodyBytes = 8 << 20

    @Option(help: "Largest n (completions per prompt) a request may ask for (HTTP 400 beyond).")
    var maxN = 128

    @Flag(help: "Serve tool_choice \"auto\": the model decides, and its text is parsed for tool calls.")
    var enableAutoToolChoice = false

    @Option(help: ArgumentHelp("The format tool calls are parsed in (default: the one the model's chat template writes).",
                               valueName: ToolParsers.names.joined(separator: "|")))
    var toolCallParser: String?

    @Option(help: ArgumentHelp("Split the model's reasoning into reasoning_content.",
                               valueName: ReasoningParsers.names.joined(separator: "|")))
    var reasoningParser: String?

    @Option(help: ArgumentHelp("Origins whose pages may call the server (CORS), as a JSON list.", valueName: "json"))
    var allowedOrigins = #"["*"]"#

    @Option(help: ArgumentHelp("Methods allowed cross-origin, as a JSON list.", valueName: "json"))
    var allowedMethods = #"["*"]"#

    @Option(help: ArgumentHelp("Request headers allowed cross-origin, as a JSON list.", valueName: "json"))
    var allowedHeaders = #"["*"]"#

    @Flag(help: "Allow credentials (cookies, authorization) on cross-origin requests.")
    var allowCredentials = false

    @Option(help: "A path prefix a proxy leaves on requests: with /api, /api/v1/models is served as /v1/models.")
    var rootPath: String?

    @Flag(help: "Log one line per finished request (id, tokens, finish reason, latency), whatever the log level.")
    var enableLogRequests = false

    @Flag(help: "Log no line per request (the default; vLLM's older flag).")
    var disableLogRequests = false

    @Flag(help: "Export /metrics under vLLM's names (vllm:..., with an engine label), for dashboards built for vLLM.")
    var metricsVllmNames = false

    @Option(help: ArgumentHelp("What the server runs: generate (completions, chat) or pooling (embeddings, /pooling; CPU).",
                               valueName: "generate|pooling"))
    var runner = "generate"

    @Option(help: ArgumentHelp("vLLM's older spelling of --runner: generate, or embed for the pooling runner.",
                               valueName: "generate|embed"))
    var task: String?

    @Option(help: ArgumentHelp("How the pooling runner makes one vector of a sequence.",
                               valueName: PoolingType.allCases.map(\.rawValue).joined(separator: "|")))
    var poolingType = "last"

    @Flag(name: .customLong("no-normalize"), help: "Leave the pooling runner's vectors as they are (default: unit length).")
    var noNormalize = false

    func validate() throws {
        guard ["generate", "pooling"].contains(runner) else {
            throw ValidationError("--runner must be generate or pooling (got \(runner))")
        }
        if let task, !["generate", "embed"].contains(task) {
            throw ValidationError("--task must be generate or embed (got \(task))")
        }
        guard PoolingType(rawValue: poolingType) != nil else {
            throw ValidationError("--pooling-type must be one of \(PoolingType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxNumSeqs > 0 else { throw ValidationError("--max-num-seqs must be > 0") }
        guard maxNumBatchedTokens > 0 else { throw ValidationError("--max-num-batched-tokens must be > 0") }
        guard maxWaitingRequests > 0 else { throw ValidationError("--max-waiting-requests must be > 0") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be > 0") }
        guard maxN > 0 else { throw ValidationError("--max-n must be > 0") }
        _ = try SpeculativeArgument.parse(speculativeConfig)
        if let toolCallParser, ToolParsers.parser(named: toolCallParser) == nil {
            throw ValidationError("--tool-call-parser must be one of \(ToolParsers.names.joined(separator: ", "))")
        }
        if let reasoningParser, ReasoningParsers.parser(named: reasoningParser) == nil {
            throw ValidationError("--reasoning-parser must be one of \(ReasoningParsers.names.joined(separator: ", "))")
        }
        for (flag, value) in [("--allowed-origins", allowedOrigins), ("--allowed-methods", allowedMethods),
                              ("--allowed-headers", allowedHeaders)] {
            _ = try Self.stringList(value, flag: flag)
        }
        if let rootPath, !rootPath.hasPrefix("/") || rootPath.count < 2 {
            throw ValidationError("--root-path must start with / and name a prefix (got \(rootPath))")
        }
        if let apiKey {
            guard !apiKey.isEmpty else { throw ValidationError("--api-key must not be empty") }
            // HTTP drops whitespace around a header value, and a key must be a header's whole token.
            guard apiKey.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw ValidationError("--api-key must be printable ASCII without spaces (it is sent in a header)")
            }
        }
    }

    func run() throws {
        let logger = model.makeLogger()
        var options = EngineOptions()
        options.maxNumSeqs = maxNumSeqs
        options.maxNumBatchedTokens = maxNumBatchedTokens
        options.enablePrefixCaching = !disablePrefixCaching
        options.speculative = try SpeculativeArgument.parse(speculativeConfig)
        let (loaded, draft) = try model.load(logger: logger, speculative: options.speculative)
        let engine = try AsyncEngine(model: loaded, options: options, draft: draft, servedName: servedModelName,
                                     maxWaiting: maxWaitingRequests, logger: logger)
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.apiKey = apiKey
        configuration.maxWaitingRequests = maxWaitingRequests
        configuration.maxBodyBytes = maxBodyBytes
        configuration.maxN = maxN
        configuration.enableAutoToolChoice = enableAutoToolChoice
        let parserName = toolCallParser ?? loaded.chatTemplate.flatMap(ToolParsers.detect(chatTemplate:))
        configuration.toolCallParser = parserName.flatMap(ToolParsers.parser(named:))
        configuration.reasoningParser = reasoningParser.flatMap(ReasoningParsers.parser(named:))
        if enableAutoToolChoice {
            logger.info("auto tool choice", metadata: ["tool_call_parser": "\(parserName ?? "none: the chat template names no format")"])
        }
        configuration.cors.allowedOrigins = try Self.stringList(allowedOrigins, flag: "--allowed-origins")
        configuration.cors.allowedMethods = try Self.stringList(allowedMethods, flag: "--allowed-methods")
        configuration.cors.allowedHeaders = try Self.stringList(allowedHeaders, flag: "--allowed-headers")
        configuration.cors.allowCredentials = allowCredentials
        configuration.rootPath = rootPath.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        configuration.logRequests = enableLogRequests && !disableLogRequests
        configuration.vllmMetricNames = metricsVllmNames
        let pooling = runner == "pooling" || task == "embed"
        let embedder = !pooling ? nil
            : try Embedder(loaded, pooling: PoolingType(rawValue: poolingType) ?? .last, normalize: !noNormalize)
        let server = OpenAIServer(engine: engine, configuration: configuration, embedder: embedder, logger: logger)
        print("Serving \(engine.modelInfo.name) on http://\(host):\(port)/v1 (max_model_len \(engine.modelInfo.maxModelLen));"
              + " --log-level info shows the stats line")
        fflush(nil)
        try runBlocking { try await server.makeApplication().runService() }
    }
}

/// Runs `operation` to completion from synchronous code (the root command is synchronous) and
/// rethrows its error. The calling thread just waits; the work runs on the concurrency pool.
func runBlocking(_ operation: @escaping @Sendable () async throws -> Void) throws {
    final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            try await operation()
        } catch {
            outcome.error = error
        }
        done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
}

extension ServeCommand {
    /// A flag's JSON list of strings (vLLM's form, `'["*"]'`).
    static func stringList(_ text: String, flag: String) throws -> [String] {
        guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
            throw ValidationError("\(flag) must be a JSON list of strings, like '[\"*\"]' (got \(text))")
        }
        return list
    }
}
