import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OpenAIServer
import Testing
import Tokenization

/// The reference data of scripts/make_server_fixtures.py (HF tokenizers and transformers).
struct Expected: Decodable {
    struct Prompt: Decodable {
        var prompt: String
        var ids: [Int]
        var decoded: String
    }
    struct Chat: Decodable {
        var messages: [[String: String]]
        var rendered: String
        var ids: [Int]
    }
    var vocabSize: Int
    var eosTokenID: Int
    var prompts: [Prompt]
    var chats: [Chat]

    enum CodingKeys: String, CodingKey {
        case prompts, chats
        case vocabSize = "vocab_size"
        case eosTokenID = "eos_token_id"
    }
}

enum Fixtures {
    static var folder: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    static func tokenizer() throws -> Tokenizer {
        try Tokenizer(folder: folder.appendingPathComponent("tiny_tokenizer"))
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
    }

    static func engine(maxModelLen: Int = 128) throws -> FakeEngine {
        try FakeEngine(tokenizer: tokenizer(), maxModelLen: maxModelLen)
    }
}

/// Starts the server over `engine` on a free port and runs `test` with an HTTP client.
func withServer(_ engine: any EngineClient, configure: (inout ServerConfiguration) -> Void = { _ in },
                _ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    var configuration = ServerConfiguration()
    configure(&configuration)
    var logger = Logger(label: "tern-test")
    logger.logLevel = .critical
    let server = OpenAIServer(engine: engine, configuration: configuration, logger: logger)
    try await server.makeApplication().test(.ahc(.http)) { client in try await test(client) }
}

extension TestClientProtocol {
    /// POSTs `json` (a JSON text) to `uri`.
    func post(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await executeRequest(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await executeRequest(uri: uri, method: .get, headers: headers, body: nil)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
    }

    /// The `data:` payloads of an SSE body, `[DONE]` included.
    var events: [String] {
        text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            #expect(event.hasPrefix("data: "))
            return String(event.dropFirst(6))
        }
    }

    /// The SSE payloads before `[DONE]` as JSON objects; records an issue unless `[DONE]` ends the stream.
    func chunks() throws -> [[String: Any]] {
        let events = self.events
        #expect(events.last == "[DONE]")
        return try events.dropLast().map { event in
            try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
        }
    }

    /// The `error` object of an OpenAI error body, after checking the status.
    func error(_ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        #expect(self.status == status, "body: \(text)", sourceLocation: sourceLocation)
        let error = try #require(try json()["error"] as? [String: Any], sourceLocation: sourceLocation)
        #expect(error["message"] is String, sourceLocation: sourceLocation)
        #expect(error["type"] is String, sourceLocation: sourceLocation)
        #expect(error.keys.contains("param"), sourceLocation: sourceLocation)
        #expect(error["code"] as? Int == Int(status.code), "code is the status, as vLLM sends it", sourceLocation: sourceLocation)
        return error
    }
}
