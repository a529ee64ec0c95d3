import Engine
import Foundation
import Hummingbird
import NIOCore

/// Builds one endpoint's wire objects from a generation's outputs: SSE chunks as they come,
/// or the whole response at the end. A value type: each response owns its copy.
protocol ResponseBuilder: Sendable {
    associatedtype Body: Encodable
    /// The JSON objects to send as SSE events for one output (possibly none).
    mutating func chunks(for event: ChoiceOutput) throws -> [Data]
    /// The events after the last output: the usage chunk when asked for.
    mutating func finalChunks(includeUsage: Bool) throws -> [Data]
    /// The non-streamed response from every choice's final state.
    func response(_ choices: [ChoiceState]) -> Body
}

extension OpenAIServer {
    /// A `text/event-stream` response: one `data: {json}` event per chunk, then `data: [DONE]`.
    /// A client that disconnects aborts the generation (its KV blocks are freed at the next
    /// step); an engine failure mid-stream is sent as an error event before `[DONE]`.
    func sseResponse(request: Request, generation: Generation, builder: some ResponseBuilder, includeUsage: Bool)
        -> Response
    {
        let logger = self.logger
        let body = ResponseBody { writer in
            var builder = builder
            do {
                try await request.body.consumeWithInboundCloseHandler({ _ in
                var outputs = generation.outputs.makeAsyncIterator()
                while true {
                    let event: ChoiceOutput?
                    do {
                        event = try await outputs.next()
                    } catch {
                        logger.error("generation failed mid-stream", metadata: ["error": "\(error)"])
                        let failure = OpenAIError.internalError("The engine failed while generating: \(error)")
                        try await writer.write(Self.event(try JSONResponse.data(failure.body)))
                        break
                    }
                    guard let event else {
                        for chunk in try builder.finalChunks(includeUsage: includeUsage) {
                            try await writer.write(Self.event(chunk))
                        }
                        break
                    }
                    for chunk in try builder.chunks(for: event) {
                        try await writer.write(Self.event(chunk))
                    }
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                }, onInboundClosed: { generation.abort() })
            } catch {
                // The client is gone (a failed write): free the engine's work for it.
                generation.abort()
                throw error
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: Self.streamHeaders, body: body)
    }

    /// Awaits every choice of a non-streamed request (aborting it if the client disconnects)
    /// and answers with `body(choices)`, or with a 500 if the engine failed. The connection
    /// closes after it: see `streamHeaders`.
    func collectResponse(request: Request, generation: Generation, choiceCount: Int,
                         body: ([ChoiceState]) -> some Encodable) async throws -> Response {
        let result = try await request.body.consumeWithInboundCloseHandler({ _ -> Result<[ChoiceState], OpenAIError> in
            var choices = Array(repeating: ChoiceState(), count: choiceCount)
            do {
                for try await event in generation.outputs { choices[event.index].add(event.output) }
            } catch {
                logger.error("generation failed", metadata: ["error": "\(error)"])
                return .failure(OpenAIError.internalError("The engine failed while generating: \(error)"))
            }
            return .success(choices)
        }, onInboundClosed: { generation.abort() })
        var response: Response
        switch result {
        case .success(let choices):
            response = try JSONResponse.make(body(choices))
        case .failure(let error):
            response = try JSONResponse.make(status: error.status, error.body)
        }
        response.headers[.connection] = "close"
        return response
    }

    /// Headers of a streamed response. The connection closes after it: watching the inbound
    /// side for a disconnect (Hummingbird's `consumeWithInboundCloseHandler`) consumes it.
    static let streamHeaders: HTTPFields = [
        .contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "close",
    ]

    static func event(_ json: Data) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }
}
