import ToolParsing

/// How the OpenAI-compatible server listens and what it accepts.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port: Int = 8000
    /// When set, every `/v1/*` request must carry `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Largest request body in bytes; larger ones get a 413.
    public var maxBodyBytes: Int = 8 << 20
    /// The largest `n` (completions per prompt) a request may ask for; beyond it, a 400.
    public var maxN: Int = 128
    /// Requests the engine may hold in its waiting queue; beyond it new requests get a 503.
    public var maxWaitingRequests: Int = 1024
    /// `/health` fails when requests are in the engine and its loop has not finished a step for
    /// this long.
    public var heartbeatTimeout: Duration = .seconds(30)
    /// How often the stats line is logged while the engine is busy.
    public var statsInterval: Duration = .seconds(5)

    /// vLLM's `--enable-auto-tool-choice`: `tool_choice: "auto"` is served (with a parser).
    public var enableAutoToolChoice = false
    /// The format tool calls are parsed in (`--tool-call-parser`, or the one the template implies).
    public var toolCallParser: (any ToolCallParser.Type)?
    /// Splits reasoning into `reasoning_content` (`--reasoning-parser`).
    public var reasoningParser: (any ReasoningParser.Type)?

    /// Cross-origin access for browsers (vLLM's defaults: any origin, method and header).
    public var cors = CORSPolicy()
    /// vLLM's `--root-path`: a path prefix a proxy leaves on requests (`/api` serves `/api/v1/...`).
    public var rootPath: String?
    /// Export metrics under vLLM's `vllm:` names and labels (`--metrics-vllm-names`).
    public var vllmMetricNames = false
    /// Log one line per finished request (`--enable-log-requests`).
    public var logRequests = false

    public init() {}
}

/// The version `GET /version` reports.
public enum TernVersion {
    public static let string = "0.1.0"
}
