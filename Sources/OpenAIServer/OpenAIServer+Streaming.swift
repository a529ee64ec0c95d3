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

    /// Awaits every choice of a non-streamed request; aborts it if the client disconnects.
    func collect(request: Request, generation: Generation, choiceCount: Int) async throws -> [ChoiceState] {
        try await request.body.consumeWithInboundCloseHandler({ _ in
            var choices = Array(repeating: ChoiceState(), count: choiceCount)
            do {
                for try await event in generation.outputs { choices[event.index].add(event.output) }
            } catch {
                throw OpenAIError.internalError("The engine failed while generating: \(error)")
            }
            return choices
        }, onInboundClosed: { generation.abort() })
    }

    /// A JSON response for a generation route; see `streamHeaders` for why it closes the connection.
    static func generationResponse(_ value: some Encodable) throws -> Response {
        var response = try JSONResponse.make(value)
        response.headers[.connection] = "close"
        return response
    }

    /// Headers of a streamed response. The connection closes after it: watching the inbound
    /// side for a disconnect consumes it.
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
