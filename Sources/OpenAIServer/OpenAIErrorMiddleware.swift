import Hummingbird
import Logging

/// Turns every error a route throws — the router's own 404, Hummingbird's 413, a failure
/// inside the engine — into OpenAI's error body with the matching status.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as OpenAIError {
            return try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try openAIError(for: error, request: request).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return try OpenAIError.internalError("\(error)").response(from: request, context: context)
        }
    }

    private func openAIError(for error: any HTTPResponseError, request: Request) -> OpenAIError {
        let message = (error as? HTTPError)?.body
        return switch error.status {
        case .notFound:
            .routeNotFound(method: request.method.rawValue, path: request.uri.path)
        case .contentTooLarge:
            .bodyTooLarge(limit: maxBodyBytes)
        case .badRequest:
            .invalidRequest(message ?? "Bad request.")
        default:
            OpenAIError(status: error.status, message: message ?? error.status.reasonPhrase,
                        type: error.status.code >= 500 ? "server_error" : "invalid_request_error")
        }
    }
}

/// vLLM's `--api-key`: every `/v1/*` route needs `Authorization: Bearer <key>`; `/health`,
/// `/metrics`, `/version` and the tokenizer routes stay open.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.uri.path.hasPrefix("/v1") else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw OpenAIError.invalidAPIKey("Missing API key: send it as `Authorization: Bearer <key>`.")
        }
        guard header == "Bearer \(apiKey)" else {
            throw OpenAIError.invalidAPIKey("Incorrect API key provided.")
        }
        return try await next(request, context)
    }
}
