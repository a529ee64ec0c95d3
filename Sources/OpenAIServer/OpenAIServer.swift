import Engine
import EngineCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import StructuredOutputs

/// The OpenAI-compatible HTTP server over an `EngineClient`: routes, validation, streaming,
/// metrics and auth. It never blocks the engine: every route only submits requests and
/// awaits their streams.
///
/// Routes: `GET /v1/models`, `POST /v1/completions`, `POST /v1/chat/completions`,
/// `POST /v1/embeddings`, `POST /pooling`, `POST /tokenize`, `POST /detokenize`, `GET /health`,
/// `GET /metrics`, `GET /version`.
public final class OpenAIServer: Sendable {
    public let engine: any EngineClient
    public let configuration: ServerConfiguration
    public let metrics: ServerMetrics
    /// The pooling runner (`--runner pooling`): set, the server answers /v1/embeddings and
    /// /pooling and refuses generation, since the embedder holds the model's KV cache.
    public let embedder: Embedder?
    let logger: Logger

    /// `metrics` defaults to a fresh set named as `configuration.vllmMetricNames` says.
    public init(engine: any EngineClient, configuration: ServerConfiguration = ServerConfiguration(),
                metrics: ServerMetrics? = nil, embedder: Embedder? = nil, logger: Logger) {
        self.engine = engine
        self.embedder = embedder
        self.configuration = configuration
        self.metrics = metrics ?? ServerMetrics(vllmNames: configuration.vllmMetricNames,
                                                maxModelLen: engine.modelInfo.maxModelLen)
        self.logger = logger
    }

    var model: ServedModelInfo { engine.modelInfo }

    /// The logger of the per-request lines (`--enable-log-requests`): notice level, shown
    /// whatever `--log-level` says.
    var requestLogger: Logger? {
        guard configuration.logRequests else { return nil }
        var requestLogger = logger
        if requestLogger.logLevel > .notice { requestLogger.logLevel = .notice }
        return requestLogger
    }

    /// The router with every route and middleware.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        // Before authentication: a browser's preflight carries no key.
        router.add(middleware: CORSMiddleware(policy: configuration.cors))
        router.add(middleware: OpenAIErrorMiddleware(maxBodyBytes: configuration.maxBodyBytes))
        if let apiKey = configuration.apiKey {
            router.add(middleware: APIKeyMiddleware(apiKey: apiKey))
        }
        router.get("/v1/models") { _, _ in try self.models() }
        router.post("/v1/completions") { request, context in try await self.completions(request, context: context) }
        router.post("/v1/chat/completions") { request, context in
            try await self.chatCompletions(request, context: context)
        }
        router.post("/v1/embeddings") { request, _ in try await self.embeddings(request, pooling: false) }
        router.post("/pooling") { request, _ in try await self.embeddings(request, pooling: true) }
        router.post("/tokenize") { request, _ in try await self.tokenize(request) }
        router.post("/detokenize") { request, _ in try await self.detokenize(request) }
        router.get("/health") { _, _ in try self.health() }
        router.get("/metrics") { _, _ in self.prometheusMetrics() }
        router.get("/version") { _, _ in try JSONResponse.make(["version": TernVersion.string]) }
        return router
    }

    /// The application to run: the HTTP server plus the `EngineService` that logs stats and,
    /// on SIGTERM or SIGINT, shuts the engine down after the server has finished its requests.
    public func makeApplication() -> some ApplicationProtocol {
        Application(
            responder: RootPathResponder(inner: makeRouter().buildResponder(), rootPath: configuration.rootPath),
            server: .http1(configuration: .init(additionalChannelHandlers: [HTTPErrorGuard()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tern"),
            services: [EngineService(engine: engine, interval: configuration.statsInterval, logger: logger)],
            logger: logger)
    }

    // MARK: small routes

    func models() throws -> Response {
        let info = model
        return try JSONResponse.make(ModelList(data: [
            ModelCard(id: info.name, created: info.created, root: info.name, maxModelLen: info.maxModelLen),
        ]))
    }

    /// 200 while the engine loop is alive and, when it has work, has advanced recently.
    func health() throws -> Response {
        let stats = engine.stats()
        guard stats.isAlive else { throw OpenAIError.unavailable("The engine loop has stopped.") }
        let stalled = ContinuousClock.now - stats.lastHeartbeat
        if stats.runningRequests + stats.waitingRequests > 0, stalled > configuration.heartbeatTimeout {
            throw OpenAIError.unavailable(
                "The engine loop has not advanced for \(Int(stalled.seconds)) s with requests in flight.")
        }
        return Response(status: .ok)
    }

    func prometheusMetrics() -> Response {
        let text = metrics.render(modelName: model.name, stats: engine.stats())
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: shared by the generation routes

    /// The request body, at most `maxBodyBytes` (413 beyond), which must be JSON: a
    /// `Content-Type` other than `application/json` is a 415 (none at all is taken as JSON).
    func collectBody(_ request: inout Request) async throws -> ByteBuffer {
        if let contentType = request.headers[.contentType] {
            let media = contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
            guard media == "application/json" else {
                throw OpenAIError(status: .unsupportedMediaType,
                                  message: "Unsupported Media Type: only 'application/json' is allowed (got '\(contentType)').",
                                  type: "invalid_request_error", code: "unsupported_media_type")
            }
        }
        do {
            return try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw OpenAIError.bodyTooLarge(limit: configuration.maxBodyBytes)
        }
    }

    /// The structured-output constraint of a request body, compiled; nil when it has none.
    /// Structured outputs end only where the grammar may end, so `ignore_eos` is refused.
    func grammar(forBody body: ByteBuffer, ignoreEOS: Bool) async throws -> CompiledGrammar? {
        guard let (field, constraint) = try StructuredOutputFields.constraint(in: Array(body.readableBytesView)) else {
            return nil
        }
        if ignoreEOS {
            throw OpenAIError.invalidRequest("ignore_eos cannot be combined with \(field): a structured output ends "
                                                 + "where its grammar does.", param: "ignore_eos")
        }
        return try await StructuredOutputFields.compile(constraint, with: model.grammarCompiler, field: field)
    }

    /// 400 on a generation route when the server runs the pooling runner.
    func checkGenerates() throws {
        if embedder != nil {
            throw OpenAIError.invalidRequest("This server runs the pooling runner (--runner pooling): it serves "
                                                 + "/v1/embeddings and /pooling, not generation.", code: "unsupported_runner")
        }
    }

    /// 404 unless `name` is nil or the served model's name.
    func checkModel(_ name: String?) throws {
        if let name, name != model.name { throw OpenAIError.modelNotFound(name) }
    }

    /// 400 when a prompt and its completion cannot fit in the context, worded as vLLM words it.
    func checkLength(promptTokens: Int, maxTokens: Int?, maxTokensField: String) throws {
        let limit = model.maxModelLen
        if promptTokens >= limit {
            throw OpenAIError.invalidRequest(
                "This model's maximum context length is \(limit) tokens. However, your request has \(promptTokens) "
                    + "input tokens. Please reduce the length of the input.", param: "prompt",
                code: "context_length_exceeded")
        }
        // The sum is formed as UInt: both terms are Int, so it cannot overflow (max_tokens may be Int64.max).
        if let maxTokens, maxTokens > limit - promptTokens {
            throw OpenAIError.invalidRequest(
                "This model's maximum context length is \(limit) tokens. However, you requested "
                    + "\(UInt(clamping: promptTokens) + UInt(clamping: maxTokens)) tokens (\(promptTokens) in the input, \(maxTokens) in the "
                    + "completion). Please reduce the length of the input or the completion.",
                param: maxTokensField, code: "context_length_exceeded")
        }
    }

    /// Submits every choice. The request was validated before, so an engine refusal here is
    /// about the engine's state (queue full, shutting down, loop stopped): a 503.
    func startGeneration(baseID: String, prompts: [[Int32]], params: SamplingParams,
                         grammar: CompiledGrammar? = nil) throws -> Generation {
        let waiting = engine.stats().waitingRequests
        // n was bounded by --max-n when the fields were read, so the product cannot overflow.
        let count = prompts.count * params.n
        if count > configuration.maxWaitingRequests {
            throw OpenAIError.invalidRequest(
                "This request asks for \(count) completions (\(prompts.count) prompts x n = \(params.n)); the server "
                    + "queues at most \(configuration.maxWaitingRequests) at once.", param: "n")
        }
        if waiting + count > configuration.maxWaitingRequests {
            throw OpenAIError.unavailable(
                "The server is busy: \(waiting) requests are waiting (limit \(configuration.maxWaitingRequests)). Retry later.")
        }
        metrics.observeParameters(n: params.n, maxTokens: params.maxTokens
                                      ?? max(0, model.maxModelLen - (prompts.map(\.count).max() ?? 0)))
        do {
            return try Generation(engine: engine, baseID: baseID, prompts: prompts, params: params,
                                  grammar: grammar, metrics: metrics,
                                  requestLogger: requestLogger)
        } catch let error as InvalidSamplingParams {
            throw OpenAIError.invalidRequest(error.description)
        } catch {
            throw OpenAIError.unavailable("The engine cannot take the request: \(error). Retry later.")
        }
    }

    /// A response id such as `cmpl-3f2a...`: the prefix and 32 random hex digits.
    static func makeID(_ prefix: String) -> String {
        prefix + "-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    static func unixTime() -> Int { Int(Date().timeIntervalSince1970) }
}
