import Engine
import Foundation
import HummingbirdTesting
import Logging
import OpenAIServer
import Testing

/// The pooling runner on SmolLM2: /v1/embeddings and /pooling in OpenAI's and vLLM's shapes,
/// vectors that do not depend on what they are batched with, and the runner's refusals.
extension EngineEndToEndTests {
    static func withPoolingServer(pooling: PoolingType = .last, normalize: Bool = true,
                                  _ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let loaded = try #require(SmolLM2.model)
        let embedder = try Embedder(loaded, pooling: pooling, normalize: normalize)
        var logger = Logger(label: "tern-test")
        logger.logLevel = .critical
        let server = OpenAIServer(engine: try Self.engine(), embedder: embedder, logger: logger)
        try await server.makeApplication().test(.ahc(.http)) { client in try await test(client) }
    }

    static func vectors(_ response: TestResponse, key: String = "embedding") throws -> [[Double]] {
        let data = try #require(try response.json()["data"] as? [[String: Any]], "\(response.text)")
        return try data.map { try #require($0[key] as? [Double]) }
    }

    @Test func embeddingsAreUnitVectorsThatIgnoreTheirBatch() async throws {
        let hidden = try #require(SmolLM2.model).config.hiddenSize
        try await Self.withPoolingServer { client in
            let inputs = ["The cat sat on the mat.", "Swift has no GIL", "x"]
            let batched = try Self.vectors(try await client.post("/v1/embeddings", try Self.json(["input": inputs])))
            #expect(batched.count == 3 && batched.allSatisfy { $0.count == hidden })
            for vector in batched { #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4) }
            for (input, together) in zip(inputs, batched) {
                let alone = try #require(try Self.vectors(try await client.post("/v1/embeddings", try Self.json(["input": input]))).first)
                let difference = zip(alone, together).map { abs($0 - $1) }.max() ?? 1
                #expect(difference < 1e-4, "\(input): batching changed the vector by \(difference)")
            }
            let similar = zip(batched[0], batched[1]).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(similar < 0.9999, "different inputs, different vectors")
            // base64: the same floats, little-endian f32.
            let encoded = try await client.post("/v1/embeddings", try Self.json(["input": inputs[0], "encoding_format": "base64"])).json()
            let text = try #require((encoded["data"] as? [[String: Any]])?.first?["embedding"] as? String)
            let bytes = try #require(Data(base64Encoded: text))
            let floats = bytes.withUnsafeBytes { raw in (0..<raw.count / 4).map { Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian)) } }
            #expect(zip(floats, batched[0]).allSatisfy { abs($0 - $1) < 1e-6 })
            #expect((encoded["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0 > 0)
            // vLLM's /pooling, token-id input.
            let pooled = try Self.vectors(try await client.post("/pooling", #"{"input": [[1, 2, 3]]}"#), key: "data")
            #expect(pooled.first?.count == hidden)
            _ = try await client.post("/v1/embeddings", #"{"input": "a", "dimensions": 7}"#).error(.badRequest)
            _ = try await client.post("/v1/embeddings", #"{"input": []}"#).error(.badRequest)
            _ = try await client.post("/v1/completions", #"{"prompt": "Hi"}"#).error(.badRequest)
        }
    }

    @Test func poolingTypesAgreeOnOneToken() async throws {
        let loaded = try #require(SmolLM2.model)
        var results: [[Float]] = []
        for pooling in PoolingType.allCases {
            let vector = try #require(try Embedder(loaded, pooling: pooling, normalize: false).embed([[42]]).first)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) > 1e-3, "not normalised")
            results.append(vector)
        }
        for other in results.dropFirst() {
            #expect(zip(results[0], other).allSatisfy { abs($0 - $1) < 1e-5 }, "one token: last = mean = cls")
        }
        // Two tokens: mean pooling is the average of the first and last states.
        let two = [Int32(42), 77]
        let mean = try Embedder(loaded, pooling: .mean, normalize: false).embed([two])[0]
        let last = try Embedder(loaded, pooling: .last, normalize: false).embed([two])[0]
        let first = try Embedder(loaded, pooling: .cls, normalize: false).embed([two])[0]
        #expect(zip(mean, zip(first, last)).allSatisfy { abs($0 - ($1.0 + $1.1) / 2) < 1e-4 }, "mean of two = (cls + last) / 2")
        // A causal model's first state ignores what follows (up to the kernels' rounding for 1 vs 2 rows).
        let scale = results[0].map(abs).max() ?? 1
        let drift = zip(first, results[0]).map { abs($0 - $1) }.max() ?? 0
        #expect(drift < 2e-2 * scale, "first state moved by \(drift) (scale \(scale))")
        // A generate-mode server points at the runner.
        try await withServer(try Self.engine()) { client in
            let error = try await client.post("/v1/embeddings", #"{"input": "a"}"#).error(.badRequest)
            #expect((error["message"] as? String)?.contains("--runner pooling") == true)
        }
    }
}
