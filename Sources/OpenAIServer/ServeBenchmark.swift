import AsyncHTTPClient
import Engine
import EngineCore
import Foundation
import NIOCore

/// vLLM's `benchmark_serving` against any OpenAI-compatible server: a dataset's prompts (by
/// default random ones of `inputLength` token ids, sent as a token-id prompt so that every
/// server sees exactly that many), each asking for its output length with EOS ignored, streamed from `/v1/completions`, sent at a
/// Poisson `requestRate` (or all at once) with at most `maxConcurrency` in flight.
public struct ServeBenchmark: Sendable {
    public struct Options: Sendable {
        /// e.g. `http://127.0.0.1:8000`
        public var baseURL: String
        /// Nil asks the server's `/v1/models` for its first model.
        public var model: String?
        public var numPrompts = 100
        public var inputLength = 128
        public var outputLength = 128
        /// Requests per second; `.infinity` sends them all at once.
        public var requestRate = Double.infinity
        public var maxConcurrency: Int?
        public var seed: UInt64 = 0
        /// Prompt token ids are drawn from `0..<vocabularySize`.
        public var vocabularySize = 32000
        public var apiKey: String?
        /// Where the `numPrompts` requests come from.
        public var dataset = BenchmarkDataset.random

        public init(baseURL: String) { self.baseURL = baseURL }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Runs the benchmark and summarizes it.
    public func run() async throws -> BenchmarkReport {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        // One connection per request in flight: the pool must not be what limits concurrency.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.maxConcurrency ?? options.numPrompts
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let report = try await run(client: client)
            try await client.shutdown()
            return report
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func run(client: HTTPClient) async throws -> BenchmarkReport {
        let base = options.baseURL.hasSuffix("/") ? String(options.baseURL.dropLast()) : options.baseURL
        let model: String
        if let named = options.model {
            model = named
        } else {
            model = try await firstModel(client: client, base: base)
        }
        let prompts: [BenchmarkPrompt]
        switch options.dataset {
        case .random:
            prompts = BenchmarkDataset.random(count: options.numPrompts, inputLength: options.inputLength,
                                              outputLength: options.outputLength,
                                              vocabularySize: options.vocabularySize, seed: options.seed)
        case .shareGPTLike:
            prompts = BenchmarkDataset.shareGPTLike(count: options.numPrompts, vocabularySize: options.vocabularySize,
                                                    seed: options.seed)
        case .shareGPT(let data, let outputLength):
            prompts = try await BenchmarkDataset.shareGPT(data, count: options.numPrompts, outputLength: outputLength) {
                try await countTokens($0, client: client, base: base)
            }
        case .custom(let data):
            prompts = try BenchmarkDataset.custom(data, count: options.numPrompts, outputLength: options.outputLength)
        }
        // Arrival times from their own stream, so that a dataset does not change them.
        var random = SplitMix64(seed: options.seed ^ 0x5EED_A77A_1CA1)
        let delays = (0..<prompts.count).map { _ in
            options.requestRate.isInfinite ? 0 : -log(1 - random.nextUnit()) / options.requestRate
        }
        let limiter = ConcurrencyLimiter(limit: options.maxConcurrency ?? .max)
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: BenchmarkRequestResult.self) { group in
            // As vLLM does: arrivals follow the schedule; the concurrency bound only delays sending.
            for (prompt, delay) in zip(prompts, delays) {
                group.addTask {
                    await limiter.acquire()
                    let result = await self.send(prompt: prompt, model: model, client: client, base: base)
                    await limiter.release()
                    return result
                }
                if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
            }
            return try await group.reduce(into: [BenchmarkRequestResult]()) { $0.append($1) }
        }
        return BenchmarkReport(results: results, duration: (ContinuousClock.now - start).seconds)
    }

    private func firstModel(client: HTTPClient, base: String) async throws -> String {
        var request = HTTPClientRequest(url: base + "/v1/models")
        if let apiKey = options.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok,
              let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let data = json["data"] as? [[String: Any]], let id = data.first?["id"] as? String
        else {
            throw BenchmarkError("\(base)/v1/models did not list a model (HTTP \(response.status.code)); pass --model")
        }
        return id
    }

    /// The token count of `text` by the server's tokenizer: vLLM's and Tern's `POST /tokenize`
    /// (`prompt` → `count`), or llama.cpp's (`content` → `tokens`).
    private func countTokens(_ text: String, client: HTTPClient, base: String) async throws -> Int {
        let apiKey = options.apiKey
        for body: [String: Any] in [["prompt": text, "add_special_tokens": false], ["content": text]] {
            var request = HTTPClientRequest(url: base + "/tokenize")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            let response = try await client.execute(request, timeout: .seconds(60))
            let data = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok,
                  let json = try JSONSerialization.jsonObject(with: Data(data.readableBytesView)) as? [String: Any]
            else { continue }
            if let count = json["count"] as? Int { return count }
            if let tokens = json["tokens"] as? [Any] { return tokens.count }
        }
        throw BenchmarkError("\(base)/tokenize did not count a prompt's tokens; pass --sharegpt-output-len to skip counting answers")
    }

    /// One streamed request, timed as vLLM times it.
    private func send(prompt: BenchmarkPrompt, model: String, client: HTTPClient, base: String) async
        -> BenchmarkRequestResult
    {
        let promptValue: Any
        var promptTokens = 0
        switch prompt.prompt {
        case .tokens(let ids):
            promptValue = ids
            promptTokens = ids.count
        case .text(let text):
            promptValue = text
        }
        var result = BenchmarkRequestResult(success: false, promptTokens: promptTokens, outputTokens: 0,
                                            timeToFirstToken: 0, interTokenLatencies: [], latency: 0)
        let payload: [String: Any] = [
            "model": model, "prompt": promptValue, "max_tokens": prompt.outputLength, "ignore_eos": true,
            "temperature": 0, "stream": true, "stream_options": ["include_usage": true],
        ]
        var request = HTTPClientRequest(url: base + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        // A connection per request: llama-server (cpp-httplib) closes a kept-alive connection
        // after a few requests, and a request sent on it as it closes fails
        // (remoteConnectionClosed), about one in six at 16 at a time.
        request.headers.add(name: "Connection", value: "close")
        if let apiKey = options.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let start = ContinuousClock.now
        do {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: payload)))
            let response = try await client.execute(request, timeout: .seconds(3600))
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                result.error = "HTTP \(response.status.code): \(String(buffer: body))"
                return result
            }
            var events = SSEParser()
            var last = start
            var tokenChunks = 0
            var usageTokens: Int?
            stream: for try await buffer in response.body {
                for data in events.feed(buffer) {
                    if data == "[DONE]" { break stream }
                    let now = ContinuousClock.now
                    guard let json = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { continue }
                    if let usage = json["usage"] as? [String: Any], let tokens = usage["completion_tokens"] as? Int {
                        usageTokens = tokens
                        if let prompt = usage["prompt_tokens"] as? Int { result.promptTokens = prompt }
                    }
                    // As vLLM counts: every chunk with a choice is a token event, text or not.
                    guard let choices = json["choices"] as? [[String: Any]], !choices.isEmpty else { continue }
                    if tokenChunks == 0 {
                        result.timeToFirstToken = (now - start).seconds
                    } else {
                        result.interTokenLatencies.append((now - last).seconds)
                    }
                    tokenChunks += 1
                    last = now
                }
            }
            result.latency = (last - start).seconds
            result.outputTokens = usageTokens ?? tokenChunks
            result.success = tokenChunks > 0
            if !result.success { result.error = "the stream carried no choice" }
        } catch {
            result.error = "\(error)"
        }
        return result
    }
}

/// A benchmark that could not run, in one line.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Splits a `text/event-stream` byte stream into the payloads of its `data:` lines.
struct SSEParser {
    private var pending = ""

    mutating func feed(_ buffer: ByteBuffer) -> [String] {
        pending += String(buffer: buffer)
        var payloads: [String] = []
        while let end = pending.range(of: "\n\n") {
            let event = pending[..<end.lowerBound]
            pending.removeSubrange(..<end.upperBound)
            for line in event.split(separator: "\n") where line.hasPrefix("data:") {
                payloads.append(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
            }
        }
        return payloads
    }
}

/// Bounds how many requests are in flight.
actor ConcurrencyLimiter {
    private let limit: Int
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func acquire() async {
        if inFlight < limit {
            inFlight += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            inFlight -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
