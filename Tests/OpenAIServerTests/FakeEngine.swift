import Engine
import EngineCore
import Foundation
import Tokenization

/// A deterministic `EngineClient` for route tests. The i-th generated token of a request is
/// the prompt's token at position i (cycling), one token per output; its logprob is
/// -(i + 1)/10 and its alternatives are the next token ids with lower logprobs. Stop strings
/// are matched on the generated text as the real engine's output processor does.
final class FakeEngine: EngineClient, @unchecked Sendable {
    let modelInfo: ServedModelInfo
    private let lock = NSLock()
    private var running: [String: Task<Void, Never>] = [:]
    private var submitted: [EngineRequest] = []
    private var aborted: [String] = []
    private var alive = true
    private var heartbeat = ContinuousClock.now
    /// Requests wait for `release()` before generating (to test queues and disconnects).
    var holding = false
    private var held: [String: CheckedContinuation<Void, Never>] = [:]
    /// Fail every request's stream after this many outputs.
    var failAfter: Int?

    init(tokenizer: Tokenizer, name: String = "tiny", maxModelLen: Int = 128) throws {
        modelInfo = ServedModelInfo(
            name: name, tokenizer: tokenizer, chatPrompt: try ChatPrompt(tokenizer: tokenizer), maxModelLen: maxModelLen,
            vocabularySize: tokenizer.vocabularySize, created: 1_700_000_000)
    }

    var submittedRequests: [EngineRequest] { lock.withLock { submitted } }
    var abortedIDs: [String] { lock.withLock { aborted } }

    func setAlive(_ value: Bool) { lock.withLock { alive = value } }
    func setHeartbeat(_ value: ContinuousClock.Instant) { lock.withLock { heartbeat = value } }

    /// Lets every held request go on.
    func release() {
        let waiters = lock.withLock {
            holding = false
            defer { held.removeAll() }
            return held
        }
        for waiter in waiters.values { waiter.resume() }
    }

    func submit(_ request: EngineRequest) throws -> AsyncThrowingStream<RequestOutput, any Error> {
        try request.params.validate(vocabularySize: modelInfo.vocabularySize)
        let (stream, continuation) = AsyncThrowingStream<RequestOutput, any Error>.makeStream()
        let task = Task { await self.generate(request, into: continuation) }
        lock.withLock {
            submitted.append(request)
            running[request.requestID] = task
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { self.abort(request.requestID) }
        }
        return stream
    }

    func abort(_ requestID: String) {
        let (task, waiter) = lock.withLock {
            aborted.append(requestID)
            return (running.removeValue(forKey: requestID), held.removeValue(forKey: requestID))
        }
        task?.cancel()
        waiter?.resume()
    }

    func stats() -> EngineStats {
        lock.withLock {
            var stats = EngineStats()
            stats.runningRequests = holding ? 0 : running.count
            stats.waitingRequests = holding ? running.count : 0
            stats.kvCacheUsage = running.isEmpty ? 0 : 0.25
            stats.promptTokensTotal = submitted.reduce(0) { $0 + $1.promptTokenIDs.count }
            stats.lastHeartbeat = heartbeat
            stats.isAlive = alive
            return stats
        }
    }

    func shutdown() async { setAlive(false) }

    /// The tokens the fake generates for `prompt`, up to `count`.
    static func tokens(for prompt: [Int32], count: Int) -> [Int32] {
        (0..<count).map { prompt[$0 % prompt.count] }
    }

    private func generate(_ request: EngineRequest, into continuation: AsyncThrowingStream<RequestOutput, any Error>.Continuation) async {
        if lock.withLock({ holding }) {
            await withCheckedContinuation { waiter in
                let resumeNow = lock.withLock {
                    if holding { held[request.requestID] = waiter }
                    return !holding
                }
                if resumeNow { waiter.resume() }
            }
        }
        let params = request.params
        let limit = min(params.maxTokens ?? .max, modelInfo.maxModelLen - request.promptTokenIDs.count)
        let tokenizer = modelInfo.tokenizer
        var generated: [Int32] = []
        var sentText = ""
        for (step, token) in Self.tokens(for: request.promptTokenIDs, count: limit).enumerated() {
            if Task.isCancelled {
                continuation.yield(output(request, [], "", nil, .abort, nil, generated.count))
                break
            }
            if let failAfter, step == failAfter {
                continuation.finish(throwing: EngineError("fake step failure"))
                return
            }
            generated.append(token)
            var text = tokenizer.decode(generated, skipSpecialTokens: params.skipSpecialTokens)
            var finish: FinishReason? = generated.count == limit ? .length : nil
            var stopReason: String?
            if let stop = params.stop.first(where: { text.contains($0) }), let range = text.range(of: stop) {
                text = String(text[..<range.lowerBound])
                finish = .stop
                stopReason = stop
            }
            // Hold back a tail that could still grow into a stop string, as the real engine does.
            let ready = finish != nil ? text : String(text.dropLast(Self.heldBack(text, stops: params.stop)))
            let delta = String(ready.dropFirst(sentText.count))
            sentText = ready
            let logprob = params.logprobs.map { top in
                [TokenLogprob(tokenID: token, logprob: -Float(step + 1) / 10,
                              top: (0..<top).map { (Int32((Int(token) + $0) % modelInfo.vocabularySize), -Float($0) - 0.5) })]
            }
            continuation.yield(output(request, [token], delta, logprob, finish, stopReason, generated.count))
            if finish != nil { break }
            await Task.yield()
        }
        continuation.finish()
        _ = lock.withLock { running.removeValue(forKey: request.requestID) }
    }

    /// The length of the longest suffix of `text` that is a proper prefix of a stop string.
    static func heldBack(_ text: String, stops: [String]) -> Int {
        var longest = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, text.count), to: longest, by: -1)
            where text.hasSuffix(stop.prefix(length)) {
                longest = length
                break
            }
        }
        return longest
    }

    private func output(_ request: EngineRequest, _ tokens: [Int32], _ text: String, _ logprobs: [TokenLogprob]?,
                        _ finish: FinishReason?, _ stopReason: String?, _ count: Int) -> RequestOutput {
        RequestOutput(requestID: request.requestID, newTokenIDs: tokens, newText: text, logprobs: logprobs,
                      finishReason: finish, stopReason: stopReason, promptTokenCount: request.promptTokenIDs.count,
                      cachedTokenCount: request.promptTokenIDs.count / 2, outputTokenCount: count)
    }
}
