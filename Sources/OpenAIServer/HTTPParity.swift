import Foundation
import HTTPTypes
import Hummingbird

/// Which browsers' pages may call the server (vLLM's `--allowed-origins`, `--allowed-methods`,
/// `--allowed-headers`, `--allow-credentials`, with its defaults: every origin, method and
/// header, no credentials). `"*"` in a list allows everything of that kind.
public struct CORSPolicy: Sendable, Equatable {
    public var allowedOrigins: [String] = ["*"]
    public var allowedMethods: [String] = ["*"]
    public var allowedHeaders: [String] = ["*"]
    public var allowCredentials = false

    public init() {}

    /// The methods `"*"` stands for in a preflight answer.
    static let everyMethod = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"

    func allows(origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin)
    }

    func allows(method: String) -> Bool {
        allowedMethods.contains("*") || allowedMethods.contains { $0.uppercased() == method.uppercased() }
    }

    /// The `Access-Control-Allow-Origin` value for `origin`: `*` when every origin is allowed and
    /// no credentials are, else the origin itself.
    func allowOriginValue(for origin: String) -> String {
        allowedOrigins.contains("*") && !allowCredentials ? "*" : origin
    }

    /// Whether the answer depends on the request's `Origin` (then `Vary: Origin`).
    var variesByOrigin: Bool { !allowedOrigins.contains("*") || allowCredentials }
}

/// CORS as Starlette's middleware (under vLLM) answers it: a preflight (`OPTIONS` with
/// `Origin` and `Access-Control-Request-Method`) is answered here, before authentication, with
/// 200 and what is allowed, or 400 naming what is not; any other request with an allowed
/// `Origin` gets `Access-Control-Allow-Origin` on its response, errors included.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        if request.method == .options, let method = request.headers[.accessControlRequestMethod] {
            return preflight(request, origin: origin, method: method)
        }
        var response = try await next(request, context)
        if policy.allows(origin: origin) {
            response.headers[.accessControlAllowOrigin] = policy.allowOriginValue(for: origin)
            if policy.allowCredentials { response.headers[.accessControlAllowCredentials] = "true" }
            if policy.variesByOrigin { response.headers.append(HTTPField(name: .vary, value: "Origin")) }
        }
        return response
    }

    private func preflight(_ request: Request, origin: String, method: String) -> Response {
        var refused: [String] = []
        if !policy.allows(origin: origin) { refused.append("origin") }
        if !policy.allows(method: method) { refused.append("method") }
        let requested = (request.headers[.accessControlRequestHeaders] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        let allowedHeaders = Set(policy.allowedHeaders.map { $0.lowercased() })
            .union(["accept", "accept-language", "content-language", "content-type"])
        if !policy.allowedHeaders.contains("*"), requested.contains(where: { !allowedHeaders.contains($0) }) {
            refused.append("headers")
        }
        var headers = HTTPFields()
        if !refused.contains("origin") { headers[.accessControlAllowOrigin] = policy.allowOriginValue(for: origin) }
        if policy.variesByOrigin { headers[.vary] = "Origin" }
        headers[.accessControlAllowMethods] = policy.allowedMethods.contains("*")
            ? CORSPolicy.everyMethod : policy.allowedMethods.map { $0.uppercased() }.joined(separator: ", ")
        headers[.accessControlAllowHeaders] = policy.allowedHeaders.contains("*")
            ? requested.joined(separator: ", ") : allowedHeaders.sorted().joined(separator: ", ")
        if policy.allowCredentials { headers[.accessControlAllowCredentials] = "true" }
        headers[.accessControlMaxAge] = "600"
        headers[.contentType] = "text/plain; charset=utf-8"
        let text = refused.isEmpty ? "OK" : "Disallowed CORS " + refused.joined(separator: ", ")
        return Response(status: refused.isEmpty ? .ok : .badRequest, headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// vLLM's `--root-path`: behind a proxy that forwards `/prefix/v1/...` unchanged, a path that
/// starts with the root path is routed without it (paths without it are still served). It
/// wraps the router's responder, since the router picks a route before its middleware runs.
struct RootPathResponder<Inner: HTTPResponder>: HTTPResponder {
    typealias Context = Inner.Context
    let inner: Inner
    /// Starts with `/`, no trailing `/`; nil: every path as it comes.
    let rootPath: String?

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let rootPath else { return try await inner.respond(to: request, context: context) }
        return try await inner.respond(to: Self.stripped(request, rootPath: rootPath), context: context)
    }

    static func stripped(_ request: Request, rootPath: String) -> Request {
        guard let path = request.head.path, path.hasPrefix(rootPath) else { return request }
        let rest = path.dropFirst(rootPath.count)
        guard rest.isEmpty || rest.first == "/" || rest.first == "?" else { return request }
        var head = request.head
        head.path = rest.first == "/" ? String(rest) : "/" + rest
        return Request(head: head, body: request.body)
    }
}
