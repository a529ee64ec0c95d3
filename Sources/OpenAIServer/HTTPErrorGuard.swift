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
///   and dropped until it stops (`LingeringDrain`); closing outright while a client is still sending makes
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

    /// Shuts the write side, and from then on drops what is still read, at the head of the
    /// pipeline (`LingeringDrain`).
    private func linger(context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        context.flush()
        try? context.pipeline.syncOperations.addHandler(LingeringDrain(), position: .first)
        context.close(mode: .output, promise: nil)
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

/// The end of a connection the server has refused: put first in the pipeline once the response
/// is written, it reads and drops every byte the client still sends (nothing behind it reads on
/// its behalf any more: the HTTP handlers stop asking once output is closed), holds back a full
/// close asked for by the handlers behind it, and closes when the client has finished sending,
/// has sent nothing for `idleTime`, or has kept sending for `maxTime` (nginx's lingering close).
/// A full close with unread bytes in the socket makes the kernel answer with a reset, which can
/// destroy the response before the client has read it.
final class LingeringDrain: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let idleTime: TimeAmount
    private let deadline: NIODeadline
    private var lastRead = NIODeadline.now()
    private var closePromises: [EventLoopPromise<Void>] = []
    private var closed = false

    init(idleTime: TimeAmount = .seconds(2), maxTime: TimeAmount = .seconds(30)) {
        self.idleTime = idleTime
        self.deadline = .now() + maxTime
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastRead = .now()
        scheduleCheck(context: context, at: lastRead + idleTime)
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            closeNow(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, !closed else {
            context.close(mode: mode, promise: promise)
            return
        }
        if let promise { closePromises.append(promise) }
    }

    private func scheduleCheck(context: ChannelHandlerContext, at time: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: min(time, deadline)) {
            let (drain, context) = loopBound.value
            drain.check(context: context)
        }
    }

    private func check(context: ChannelHandlerContext) {
        guard !closed else { return }
        let now = NIODeadline.now()
        if now >= deadline || now >= lastRead + idleTime {
            closeNow(context: context)
        } else {
            scheduleCheck(context: context, at: lastRead + idleTime)
        }
    }

    private func closeNow(context: ChannelHandlerContext) {
        guard !closed else { return }
        closed = true
        let promises = closePromises
        closePromises = []
        let done = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .all, promise: done)
        done.futureResult.whenComplete { result in
            for promise in promises { promise.completeWith(result) }
        }
    }
}
