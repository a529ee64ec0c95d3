import EngineCore
import Foundation
import Logging

/// The engine loop on its own thread, fed by a locked input queue and answering through
/// one stream per request. The loop runs schedule → execute → update back to back while
/// there is work and sleeps on a condition when there is none; it never waits on a client.
/// Text (detokenization, stop strings) is made on the consumer's side, off the loop.
public final class AsyncEngine: EngineClient, @unchecked Sendable {
    public let modelInfo: ServedModelInfo

    /// What the loop hands a request's stream after each step that touched it.
    struct Delta: Sendable {
        var tokens: [Int32]
        var logprob: TokenLogprob?
        var promptLogprobs: (firstPosition: Int, entries: [TokenLogprob])?
        var finishReason: FinishReason?
        var cachedTokens: Int
        var queueTime: Duration?
    }
    typealias DeltaContinuation = AsyncThrowingStream<Delta, any Error>.Continuation

    let logger: Logger
    let maxWaiting: Int
    let condition = NSCondition()
    // Guarded by `condition`:
    var pendingAdds: [(EngineRequest, DeltaContinuation)] = []
    var pendingAborts: [String] = []
    var pendingStops: [String] = []
    var accepting = true
    var stopping = false
    var snapshot = EngineStats()
    var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    /// Tokens counted for the stats, owned by the loop thread.
    var promptTokensTotal = 0
    var generationTokensTotal = 0
    var preemptionsTotal = 0
    var iterationTokenCounts = [Int](repeating: 0, count: EngineStats.iterationTokenBounds.count + 1)
    var iterationTokensSum = 0
    // Owned by the loop thread:
    let engine: LLMEngine
    var streams: [String: DeltaContinuation] = [:]
    /// Arrival times of requests not yet scheduled, and queue times not yet delivered.
    var arrivals: [String: ContinuousClock.Instant] = [:]
    var queueTimes: [String: Duration] = [:]
    let eosTokenIDs: Set<Int32>

    /// Starts the loop. `maxWaiting` bounds the queue (beyond it `submit` throws
    /// `EngineBusyError`, which servers answer with 503).
    public init(model: LoadedModel, options: EngineOptions = EngineOptions(), draft: LoadedModel? = nil,
                servedName: String? = nil, maxWaiting: Int = 1024, logger: Logger) throws {
        let llm = try LLM(model: model, options: options, draft: draft)
        engine = llm.engine
        eosTokenIDs = model.eosTokenIDs
        self.logger = logger
        self.maxWaiting = maxWaiting
        modelInfo = ServedModelInfo(
            name: servedName ?? model.name, tokenizer: model.tokenizer,
            chatPrompt: try? ChatPrompt(model: model), maxModelLen: model.maxModelLen,
            vocabularySize: model.config.vocabularySize, created: Int(Date().timeIntervalSince1970),
            eosTokenIDs: model.eosTokenIDs)
        let thread = Thread { [self] in loop() }
        thread.name = "tern-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    // MARK: EngineClient

    public func submit(_ request: EngineRequest) throws -> AsyncThrowingStream<RequestOutput, any Error> {
        try RequestValidation.validate(promptTokenIDs: request.promptTokenIDs, params: request.params,
                                       vocabularySize: modelInfo.vocabularySize)
        guard request.params.n == 1 else {
            throw EngineError("n: submit one request per completion (SamplingParams.forCompletion), got n = \(request.params.n)")
        }
        let (deltas, continuation) = AsyncThrowingStream<Delta, any Error>.makeStream()
        condition.lock()
        let refusal: (any Error)? =
            !accepting ? EngineError("the engine is shutting down") :
            !snapshot.isAlive ? EngineError("the engine loop has stopped") :
            snapshot.waitingRequests + pendingAdds.count >= maxWaiting ? EngineBusyError(waiting: maxWaiting) : nil
        if refusal == nil {
            pendingAdds.append((request, continuation))
            condition.signal()
        }
        condition.unlock()
        if let refusal { throw refusal }
        return makeOutputStream(request: request, deltas: deltas)
    }

    public func abort(_ requestID: String) {
        condition.lock()
        pendingAborts.append(requestID)
        condition.signal()
        condition.unlock()
    }

    public func stats() -> EngineStats {
        condition.lock()
        defer { condition.unlock() }
        return snapshot
    }

    public func shutdown() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            condition.lock()
            accepting = false
            stopping = true
            if snapshot.isAlive {
                shutdownWaiters.append(waiter)
                condition.signal()
                condition.unlock()
            } else {
                condition.unlock()
                waiter.resume()
            }
        }
    }

    // MARK: the consumer side

    /// Maps the loop's token deltas to text deltas with the request's own processor; ends
    /// the request in the engine when a stop string matches or the consumer goes away.
    private func makeOutputStream(request: EngineRequest,
                                  deltas: AsyncThrowingStream<Delta, any Error>) -> AsyncThrowingStream<RequestOutput, any Error> {
        let tokenizer = modelInfo.tokenizer
        let promptCount = request.promptTokenIDs.count
        let requestID = request.requestID
        let params = request.params
        return AsyncThrowingStream { continuation in
            let task = Task {
                var processor = OutputProcessor(tokenizer: tokenizer, params: params)
                var outputCount = 0
                var promptLogprobs: [TokenLogprob?] = params.promptLogprobs != nil ? [nil] : []
                var promptLogprobsSent = false
                do {
                    for try await delta in deltas {
                        outputCount += delta.tokens.count
                        if let chunk = delta.promptLogprobs, chunk.firstPosition == promptLogprobs.count {
                            promptLogprobs.append(contentsOf: chunk.entries.map { Optional($0) })
                        }
                        let text = processor.process(delta.tokens, final: delta.finishReason != nil)
                        var finish = delta.finishReason
                        var stopReason: String?
                        if let stop = processor.matchedStop {
                            finish = .stop
                            stopReason = stop
                            self.stopByString(requestID)
                        }
                        let promptReady = params.promptLogprobs != nil && !promptLogprobsSent
                            && promptLogprobs.count == promptCount
                        if delta.tokens.isEmpty && finish == nil && !promptReady { continue }
                        continuation.yield(RequestOutput(
                            requestID: requestID, newTokenIDs: delta.tokens, newText: text,
                            logprobs: params.logprobs != nil ? delta.logprob.map { [$0] } ?? [] : nil,
                            promptLogprobs: promptReady ? promptLogprobs : nil,
                            finishReason: finish, stopReason: stopReason, promptTokenCount: promptCount,
                            cachedTokenCount: delta.cachedTokens, outputTokenCount: outputCount,
                            queueTime: delta.queueTime))
                        if promptReady { promptLogprobsSent = true }
                        if finish != nil { break }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { [weak self] termination in
                task.cancel()
                if case .cancelled = termination { self?.abort(requestID) }
            }
        }
    }

    private func stopByString(_ requestID: String) {
        condition.lock()
        pendingStops.append(requestID)
        condition.signal()
        condition.unlock()
    }
}

/// The waiting queue is full; try again later (HTTP 503).
public struct EngineBusyError: Error, CustomStringConvertible {
    public let waiting: Int
    public var description: String { "the server is busy: \(waiting) requests are already waiting" }
}
