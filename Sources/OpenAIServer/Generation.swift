import Engine
import EngineCore
import Foundation
import Logging
import StructuredOutputs

/// One output of one choice of an API request.
struct ChoiceOutput: Sendable {
    /// The choice's index in the response: prompt index × n + sample index.
    let index: Int
    let output: RequestOutput
}

/// The engine requests behind one API request — one per prompt and sample, since the engine
/// serves `n = 1` only — with their outputs merged into one stream in arrival order, and the
/// request-level metrics (TTFT, inter-token latency, end-to-end latency) recorded on the way.
final class Generation: Sendable {
    let requestIDs: [String]
    /// Ends after every choice has finished; throws if the engine fails.
    let outputs: AsyncThrowingStream<ChoiceOutput, any Error>
    private let engine: any EngineClient

    /// Submits every choice. If the engine refuses one, those already submitted are aborted
    /// and the error is rethrown.
    ///
    /// - Parameters:
    ///   - baseID: the response id; engine request ids are `baseID-<choice index>`.
    ///   - prompts: token ids of each prompt.
    ///   - params: shared by all choices; the i-th sample of a prompt gets seed `seed + i`, so
    ///     that `n > 1` with a seed gives different but reproducible choices.
    ///   - requestLogger: logs one line per finished choice (`--enable-log-requests`).
    init(engine: any EngineClient, baseID: String, prompts: [[Int32]], params: SamplingParams,
         grammar: CompiledGrammar? = nil, metrics: ServerMetrics, requestLogger: Logger? = nil) throws {
        self.engine = engine
        let arrival = ContinuousClock.now
        var streams: [(Int, AsyncThrowingStream<RequestOutput, any Error>)] = []
        var ids: [String] = []
        for (promptIndex, prompt) in prompts.enumerated() {
            for sample in 0..<params.n {
                let index = promptIndex * params.n + sample
                var choiceParams = params
                choiceParams.n = 1
                choiceParams.seed = params.seed.map { $0 &+ UInt64(sample) }
                let requestID = "\(baseID)-\(index)"
                do {
                    let stream = try engine.submit(EngineRequest(requestID: requestID, promptTokenIDs: prompt,
                                                                 params: choiceParams, grammar: grammar))
                    streams.append((index, stream))
                    ids.append(requestID)
                } catch {
                    for id in ids { engine.abort(id) }
                    throw error
                }
            }
        }
        requestIDs = ids
        let (merged, continuation) = AsyncThrowingStream<ChoiceOutput, any Error>.makeStream()
        outputs = merged
        let task = Task {
            do {
                let longest = try await withThrowingTaskGroup(of: Int.self) { group in
                    for (index, stream) in streams {
                        let promptTokens = prompts[index / params.n].count
                        group.addTask {
                            var timer = LatencyTimer(arrival: arrival, promptTokens: promptTokens)
                            var reason: FinishReason?
                            for try await output in stream {
                                timer.record(output, metrics: metrics)
                                reason = output.finishReason ?? reason
                                continuation.yield(ChoiceOutput(index: index, output: output))
                            }
                            requestLogger?.notice("request finished", metadata: [
                                "request_id": "\(baseID)-\(index)", "prompt_tokens": "\(promptTokens)",
                                "generation_tokens": "\(timer.generatedTokens)",
                                "finish_reason": "\(reason.map { "\($0)" } ?? "none")",
                                "e2e_s": "\(String(format: "%.3f", (ContinuousClock.now - arrival).seconds))",
                            ])
                            return timer.generatedTokens
                        }
                    }
                    return try await group.reduce(0) { max($0, $1) }
                }
                metrics.observeMaxGenerationTokens(longest)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let submitted = ids
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                task.cancel()
                for id in submitted { engine.abort(id) }
            }
        }
    }

    /// Aborts every choice (the client went away); their outputs end with reason `abort`.
    func abort() {
        for id in requestIDs { engine.abort(id) }
    }
}

/// The timing of one engine request, as vLLM measures it: time to first token from arrival,
/// the gap between consecutive outputs, arrival to finish, and the phases between (queued,
/// prefill, decode), with its token counts.
struct LatencyTimer {
    let arrival: ContinuousClock.Instant
    let promptTokens: Int
    private(set) var generatedTokens = 0
    private var last: ContinuousClock.Instant?
    private var queue: Double?
    private var firstToken: Double?

    init(arrival: ContinuousClock.Instant, promptTokens: Int) {
        self.arrival = arrival
        self.promptTokens = promptTokens
    }

    mutating func record(_ output: RequestOutput, metrics: ServerMetrics) {
        let now = ContinuousClock.now
        if let queueTime = output.queueTime {
            metrics.observeQueueTime(queueTime.seconds)
            queue = queueTime.seconds
        }
        if !output.newTokenIDs.isEmpty {
            if let last {
                metrics.observeInterTokenLatency((now - last).seconds)
            } else {
                firstToken = (now - arrival).seconds
                metrics.observeTimeToFirstToken(firstToken!)
            }
            last = now
            generatedTokens += output.newTokenIDs.count
        }
        if let reason = output.finishReason {
            metrics.observeFinished(reason, timing: .init(endToEnd: (now - arrival).seconds, queue: queue,
                                                          firstToken: firstToken),
                                    promptTokens: promptTokens, generationTokens: generatedTokens)
        }
    }
}
