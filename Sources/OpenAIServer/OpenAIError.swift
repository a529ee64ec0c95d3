import Foundation
import Hummingbird

/// An error as the OpenAI API reports it: an HTTP status and the body
/// `{"error": {"message", "type", "param", "code"}}`, whose `code` is the HTTP status as vLLM and
/// llama.cpp send it (clients built for either read it as a number).
public struct OpenAIError: Error, HTTPResponseError, CustomStringConvertible, Equatable {
    public let status: HTTPResponse.Status
    /// One readable line saying what is wrong.
    public let message: String
    /// OpenAI's error class, e.g. `invalid_request_error`.
    public let type: String
    /// The request field at fault, in the API's spelling (`top_p`), if one is.
    public let param: String?
    /// A machine-readable reason such as `model_not_found`, if one applies: logged and in
    /// `description`; the body's `code` is the status.
    public let code: String?
    /// Answer with `Connection: close` and close the connection once the response is written
    /// (the body the client is still sending will not be read).
    public var closesConnection = false

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(type)\(code.map { " (\($0))" } ?? ""): \(message)" }

    /// 400: a field is missing, malformed or out of range, or the prompt does not fit.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 401: the API key is missing or wrong.
    public static func invalidAPIKey(_ message: String) -> OpenAIError {
        OpenAIError(status: .unauthorized, message: message, type: "invalid_request_error", code: "invalid_api_key")
    }

    /// 404: the model is not the one served.
    public static func modelNotFound(_ model: String) -> OpenAIError {
        OpenAIError(status: .notFound, message: "The model `\(model)` does not exist.",
                    type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    /// 404: no route for this path and method.
    public static func routeNotFound(method: String, path: String) -> OpenAIError {
        OpenAIError(status: .notFound, message: "No route for \(method) \(path).", type: "invalid_request_error",
                    code: "not_found")
    }

    /// 413: the body is larger than the server takes.
    public static func bodyTooLarge(limit: Int) -> OpenAIError {
        OpenAIError(status: .contentTooLarge, message: "Request body is larger than the limit of \(limit) bytes.",
                    type: "invalid_request_error", code: "request_too_large")
    }

    /// 503: the waiting queue is full, or the engine is shutting down or dead.
    public static func unavailable(_ message: String) -> OpenAIError {
        OpenAIError(status: .serviceUnavailable, message: message, type: "server_error", code: "service_unavailable")
    }

    /// 500: the engine failed while running the request.
    public static func internalError(_ message: String) -> OpenAIError {
        OpenAIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
    }

    /// The JSON body, `{"error": {...}}`, with `param` as `null` when absent.
    public var body: ErrorBody { ErrorBody(error: .init(message: message, type: type, param: param, code: status.code)) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(status: status, body)
        if closesConnection { response.headers[.connection] = "close" }
        return response
    }
}

/// The wire form of `OpenAIError`.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var message: String
        public var type: String
        public var param: String?
        /// The HTTP status.
        public var code: Int

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }
    }

    public var error: Detail
}
