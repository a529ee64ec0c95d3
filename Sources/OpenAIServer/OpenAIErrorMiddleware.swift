import Hummingbird
import Logging
import NIOHTTP1

/// Turns every error a route throws — the router's own 404, Hummingbird's 413, a failure
/// inside the engine — into OpenAI's error body with the matching status, and refuses bodies
/// the server would otherwise read in vain: one over the size limit (413) or one sent to a
/// route that takes none (400). Those refusals, and a body that breaks HTTP's framing midway,
/// close the connection (`HTTPErrorGuard` does it) instead of reading the rest.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            try checkBodyFraming(request)
            return try await next(request, context)
        } catch let error as OpenAIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPParserError {
            var refusal = HTTPErrorGuard.openAIError(for: error)
            refusal.closesConnection = true
            return try refusal.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try openAIError(for: error, request: request).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return try OpenAIError.internalError("\(error)").response(from: request, context: context)
        }
    }

    /// Methods whose routes here read no body.
    private static var bodylessMethods: Set<HTTPRequest.Method> { [.get, .head, .delete, .options] }

    private func checkBodyFraming(_ request: Request) throws {
        let length = request.headers[.contentLength]
        let chunked = request.headers[.transferEncoding] != nil
        let declared = length.flatMap { Int($0) }
        if let declared, declared > maxBodyBytes {
            var error = OpenAIError.bodyTooLarge(limit: maxBodyBytes)
            error.closesConnection = true
            throw error
        }
        if Self.bodylessMethods.contains(request.method), chunked || (declared ?? 0) > 0 {
            var error = OpenAIError.invalidRequest("\(request.method.rawValue) \(request.uri.path) takes no request body.")
            error.closesConnection = true
            throw error
        }
    }

    private func openAIError(for error: any HTTPResponseError, request: Request) -> OpenAIError {
        let message = (error as? HTTPError)?.body
        switch error.status {
        case .notFound:
            return .routeNotFound(method: request.method.rawValue, path: request.uri.path)
        case .contentTooLarge:
            var refusal = OpenAIError.bodyTooLarge(limit: maxBodyBytes)
            refusal.closesConnection = true
            return refusal
        case .badRequest:
            return .invalidRequest(message ?? "Bad request.")
        default:
            return OpenAIError(status: error.status, message: message ?? error.status.reasonPhrase,
                               type: error.status.code >= 500 ? "server_error" : "invalid_request_error")
        }
    }
}
