import EngineCore
import StructuredOutputs
import Foundation
import Logging
import Models
import SpeculativeDecoding

/// One finished completion.
public struct Completion: Sendable {
    public let requestID: String
    public let promptTokenIDs: [Int32]
    public let tokenIDs: [Int32]
    public let finishReason: FinishReason
    public let text: String
}

/// Engine sizes a user may set (vLLM's names in the CLI).
public struct EngineOptions: Sendable {
    public var maxNumSeqs: Int = 64
    public var maxNumBatchedTokens: Int = 512
    public var enablePrefixCaching: Bool = true
    /// Speculative decoding (`--speculative-config`); nil is off.
    public var speculative: SpeculativeConfig?
    public init() {}
}

/// The offline API: generate completions for many prompts at once on one engine, with
/// every request sharing each forward pass (vLLM's `LLM.generate`).
public final class LLM {
    public let model: LoadedModel
    public let engine: LLMEngine
    private var nextID = 0
    /// Requests not yet returned by `run`.
    private var active: [String: ActiveRequest] = [:]

    private struct ActiveRequest {
        let prompt: [Int32]
        var processor: OutputProcessor
        var tokens: [Int32] = []
        var text = ""
        var stopReason: String?
    }

    /// - Parameter draft: the draft model when `options.speculative` uses draft_model.
    public init(model: LoadedModel, options: EngineOptions = EngineOptions(), draft: LoadedModel? = nil) throws {
        self.model = model
        let config = SchedulerConfig(
            maxNumSeqs: options.maxNumSeqs, maxNumBatchedTokens: options.maxNumBatchedTokens,
            maxModelLen: model.maxModelLen, blockSize: model.executor.blockSize,
            numBlocks: model.executor.blockCount, enablePrefixCaching: options.enablePrefixCaching)
        engine = try LLMEngine(model: model.executor, schedulerConfig: config, speculative: options.speculative,
                               draftModel: draft?.executor)
    }

    /// Validates and queues `params.n` requests for `promptTokenIDs`; returns their ids. With
    /// `grammar`, each request's output follows it (structured outputs).
    @discardableResult
    public func add(promptTokenIDs: [Int32], params: SamplingParams, grammar: CompiledGrammar? = nil) throws -> [String] {
        try RequestValidation.validate(promptTokenIDs: promptTokenIDs, params: params,
                                       vocabularySize: model.config.vocabularySize)
        return try (0..<params.n).map { index in
            let requestID = "req-\(nextID)"
            let completionParams = params.forCompletion(index)
            try engine.add(Request(requestID: requestID, promptTokenIDs: promptTokenIDs,
                                   samplingParams: completionParams, eosTokenIDs: model.eosTokenIDs), grammar: grammar)
            nextID += 1
            active[requestID] = ActiveRequest(
                prompt: promptTokenIDs, processor: OutputProcessor(tokenizer: model.tokenizer, params: completionParams))
            return requestID
        }
    }

    /// Runs steps until every queued request is done; `onOutput` sees each request's text
    /// deltas as they are made (for streaming). Returns the completions in the order the
    /// requests were added.
    public func run(onOutput: (RequestOutput) -> Void = { _ in }) throws -> [Completion] {
        var finished: [Completion] = []
        while engine.hasUnfinishedRequests {
            let result = try engine.step()
            for update in result.updates {
                guard var state = active[update.requestID] else { continue }
                state.tokens.append(contentsOf: update.newTokenIDs)
                let text = state.processor.process(update.newTokenIDs, final: update.isFinished)
                var reason = update.finishReason
                if let stop = state.processor.matchedStop {
                    reason = .stop
                    if !update.isFinished { _ = engine.finish(update.requestID, reason: .stop) }
                    state.stopReason = stop
                } else if reason == nil, text.isEmpty, update.newTokenIDs.isEmpty {
                    active[update.requestID] = state
                    continue
                }
                state.text += text
                onOutput(RequestOutput(
                    requestID: update.requestID, newTokenIDs: update.newTokenIDs, newText: text,
                    logprobs: result.logprobs[update.requestID].map { [$0] }, finishReason: reason,
                    stopReason: state.stopReason, promptTokenCount: state.prompt.count,
                    cachedTokenCount: update.numCachedTokens, outputTokenCount: state.tokens.count))
                if let reason {
                    active[update.requestID] = nil
                    finished.append(Completion(requestID: update.requestID, promptTokenIDs: state.prompt,
                                               tokenIDs: state.tokens, finishReason: reason, text: state.text))
                } else {
                    active[update.requestID] = state
                }
            }
        }
        return finished.sorted { Self.sequence($0.requestID) < Self.sequence($1.requestID) }
    }

    /// Generates one completion per prompt.
    public func generate(_ prompts: [[Int32]], params: SamplingParams) throws -> [Completion] {
        for prompt in prompts { try add(promptTokenIDs: prompt, params: params) }
        return try run()
    }

    private static func sequence(_ requestID: String) -> Int { Int(requestID.dropFirst(4)) ?? 0 }
}
