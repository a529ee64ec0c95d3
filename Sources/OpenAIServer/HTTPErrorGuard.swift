import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The connection-level half of the server's error handling, as a channel handler after
/// Hummingbird's HTTP codec:
/// - Text that is not HTTP (garbage bytes, a bad `Content-Length` or chunk size, a header over
///   the size limit) makes Hummingbird write a bare `400` with no body; this handler gives that
///   response OpenAI's error body (and `431` for oversized headers), so every error a client
///   sees has the same shape.
/// - When such an error arrives in the middle of a body whose request was already answered (the
///   route read the broken body and replied), Hummingbird's second response is dropped: one
///   request, one response.
/// - A response carrying `Connection: close` ends the connection once it is written, so the
///   server never hands an oversized or unwanted body it has refused to the router. The close is
///   a lingering one: the write side is shut at once, and what the client still sends is read
///   and dropped for up to `lingerTime`; closing outright while a client is still sending makes
///   its kernel answer with a reset, which can destroy the response before the client reads it.
final class HTTPErrorGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var requestsSeen = 0
    private var responsesEnded = 0
    private var requestComplete = true
    private var parseError: HTTPParserError?
    /// What to do with the parts of the response being written.
    private var current = Disposition.pass
    private var closeAfterResponse = false
    private var lingering = false
    /// How long a refused client may keep sending before the connection is closed outright.
    static let lingerTime = TimeAmount.seconds(2)

    private enum Disposition {
        case pass
        case replaceBody(ByteBuffer)
        case drop
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingering { return }
        switch unwrapInboundIn(data) {
        case .head:
            requestsSeen += 1
            requestComplete = false
        case .end:
            requestComplete = true
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError { parseError = error }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            closeAfterResponse = head.headerFields[.connection]?.lowercased() == "close"
            guard let parseError, Self.isBareParseErrorResponse(head) else {
                current = .pass
                context.write(data, promise: promise)
                return
            }
            if !requestComplete, responsesEnded >= requestsSeen {
                current = .drop
                promise?.succeed()
                return
            }
            let error = Self.openAIError(for: parseError)
            let body = ByteBuffer(bytes: (try? JSONResponse.data(error.body)) ?? Data())
            head.status = error.status
            head.headerFields[.contentType] = "application/json"
            head.headerFields[.contentLength] = String(body.readableBytes)
            current = .replaceBody(body)
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            switch current {
            case .pass: context.write(data, promise: promise)
            case .replaceBody, .drop: promise?.succeed()
            }
        case .end:
            let disposition = current
            current = .pass
            switch disposition {
            case .drop:
                promise?.succeed()
                linger(context: context)
                return
            case .replaceBody(let body):
                context.write(wrapOutboundOut(.body(body)), promise: nil)
                context.write(data, promise: promise)
            case .pass:
                context.write(data, promise: promise)
            }
            responsesEnded += 1
            if closeAfterResponse { linger(context: context) }
        }
    }

    /// Shuts the write side, drops what is still read, and closes after `lingerTime`.
    private func linger(context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        context.flush()
        context.close(mode: .output, promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: Self.lingerTime) { channel.close(promise: nil) }
    }

    /// Hummingbird's answer to a parse error: `400`, `Content-Length: 0`, `Connection: close`.
    /// Tern's own routes never send a 400 without a body.
    private static func isBareParseErrorResponse(_ head: HTTPResponse) -> Bool {
        head.status == .badRequest && head.headerFields[.contentLength] == "0"
            && head.headerFields[.connection]?.lowercased() == "close"
    }

    /// The OpenAI error for text that is not valid HTTP.
    static func openAIError(for error: HTTPParserError) -> OpenAIError {
        switch error {
        case .headerOverflow:
            OpenAIError(status: .requestHeaderFieldsTooLarge,
                        message: "The request's header fields are larger than the server takes.",
                        type: "invalid_request_error", code: "request_header_fields_too_large")
        case .invalidContentLength, .unexpectedContentLength:
            .invalidRequest("The request's Content-Length header is not valid.", code: "malformed_http")
        case .invalidChunkSize:
            .invalidRequest("The request's chunked body has an invalid chunk size.", code: "malformed_http")
        default:
            .invalidRequest("The request is not valid HTTP/1.1 (\(error)).", code: "malformed_http")
        }
    }
}
