import Dispatch
import Engine
import Foundation
import Hummingbird

/// The body of `POST /v1/embeddings` and vLLM's `POST /pooling`.
public struct EmbeddingRequest: Decodable, Sendable {
    public var model: String?
    /// A string, strings, token ids, or lists of token ids.
    public var input: PromptInput
    /// `float` (default) or `base64` (little-endian f32, as OpenAI sends it).
    public var encodingFormat: String?
    /// Only the model's own size is served.
    public var dimensions: Int?
    public var addSpecialTokens: Bool?
    public var truncatePromptTokens: Int?

    enum CodingKeys: String, CodingKey {
        case model, input
        case encodingFormat = "encoding_format"
        case dimensions
        case addSpecialTokens = "add_special_tokens"
        case truncatePromptTokens = "truncate_prompt_tokens"
    }
}

/// One vector of an embeddings or pooling answer: floats, or base64 text.
enum EmbeddingValue: Encodable, Sendable {
    case floats([Float])
    case base64(String)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .floats(let values): try container.encode(values)
        case .base64(let text): try container.encode(text)
        }
    }
}

struct EmbeddingResponse: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var object: String
        var index: Int
        var value: EmbeddingValue
        /// `embedding` on /v1/embeddings, `data` on /pooling.
        var key: String

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(object, forKey: Key(stringValue: "object"))
            try container.encode(index, forKey: Key(stringValue: "index"))
            try container.encode(value, forKey: Key(stringValue: key))
        }
    }

    struct TokenUsage: Encodable, Sendable {
        var promptTokens: Int
        var totalTokens: Int
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case totalTokens = "total_tokens"
        }
    }

    var id: String
    var object = "list"
    var created: Int
    var model: String
    var data: [Item]
    var usage: TokenUsage
}

extension OpenAIServer {
    /// `POST /v1/embeddings` (`pooling` false) and vLLM's `POST /pooling`: one pooled,
    /// normalised vector per input, from the pooling runner (`--runner pooling`).
    func embeddings(_ request: Request, pooling: Bool) async throws -> Response {
        var request = request
        let body = try JSONResponse.decode(EmbeddingRequest.self, from: try await collectBody(&request))
        try checkModel(body.model)
        guard let embedder else {
            throw OpenAIError.invalidRequest("This server runs the generate runner; start it with --runner pooling to "
                                                 + "serve \(pooling ? "/pooling" : "/v1/embeddings").", code: "unsupported_runner")
        }
        let info = model
        let hidden = embedder.model.config.hiddenSize
        if let dimensions = body.dimensions, dimensions != hidden {
            throw OpenAIError.invalidRequest("dimensions must be the model's own size (\(hidden)), got \(dimensions).",
                                             param: "dimensions")
        }
        let base64: Bool
        switch body.encodingFormat ?? "float" {
        case "float": base64 = false
        case "base64": base64 = true
        case let other:
            throw OpenAIError.invalidRequest("encoding_format must be float or base64, got \(other).", param: "encoding_format")
        }
        var fields = VLLMRequestFields()
        fields.truncatePromptTokens = body.truncatePromptTokens
        try fields.validate()
        var prompts: [[Int32]]
        switch body.input {
        case .text(let texts):
            prompts = texts.map { info.tokenizer.encode($0, addSpecialTokens: body.addSpecialTokens ?? true) }
        case .tokens(let lists):
            prompts = try lists.map { list in
                try list.map { try Self.promptTokenID($0, vocabularySize: info.vocabularySize, field: "input") }
            }
        }
        prompts = try prompts.map { try fields.truncated($0, maxModelLen: info.maxModelLen) }
        guard !prompts.isEmpty else { throw OpenAIError.invalidRequest("input must not be empty.", param: "input") }
        for prompt in prompts {
            if prompt.isEmpty { throw OpenAIError.invalidRequest("input must contain at least one token.", param: "input") }
            if prompt.count > info.maxModelLen {
                throw OpenAIError.invalidRequest(
                    "This model's maximum context length is \(info.maxModelLen) tokens. However, your request has "
                        + "\(prompt.count) input tokens. Please reduce the length of the input.", param: "input")
            }
        }
        let inputs = prompts
        let vectors: [[Float]]
        do {
            vectors = try await Self.runOffLoop { try embedder.embed(inputs) }
        } catch let error as EngineError {
            throw OpenAIError.invalidRequest("\(error)", param: "input")
        }
        let items = vectors.enumerated().map { index, vector in
            EmbeddingResponse.Item(object: pooling ? "pooling" : "embedding", index: index,
                                   value: base64 ? .base64(Self.base64(vector)) : .floats(vector),
                                   key: pooling ? "data" : "embedding")
        }
        let tokens = prompts.reduce(0) { $0 + $1.count }
        return try JSONResponse.make(EmbeddingResponse(
            id: Self.makeID(pooling ? "pool" : "embd"), created: Self.unixTime(), model: info.name, data: items,
            usage: .init(promptTokens: tokens, totalTokens: tokens)))
    }

    /// Little-endian f32 bytes in base64, as OpenAI's `encoding_format: "base64"`.
    static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }

    /// Runs blocking model work on a dispatch thread, not on the server's cooperative pool.
    static func runOffLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
