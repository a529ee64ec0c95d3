import EngineCore
import Foundation
import Logging
import Models

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
    public init() {}
}

/// The offline API: generate completions for many prompts at once on one engine, with
/// every request sharing each forward pass (vLLM's `LLM.generate`).
public final class LLM {
    public let model: LoadedModel
    public let engine: LLMEngine
    private var nextID = 0
    /// Prompts of requests not yet returned by `run`.
    private var prompts: [String: [Int32]] = [:]

    public init(model: LoadedModel, options: EngineOptions = EngineOptions()) throws {
        self.model = model
        let config = SchedulerConfig(
            maxNumSeqs: options.maxNumSeqs, maxNumBatchedTokens: options.maxNumBatchedTokens,
            maxModelLen: model.maxModelLen, blockSize: model.executor.blockSize,
            numBlocks: model.executor.blockCount, enablePrefixCaching: options.enablePrefixCaching)
        engine = try LLMEngine(model: model.executor, schedulerConfig: config)
    }

    /// Validates and queues one request for `promptTokenIDs`; returns its id.
    @discardableResult
    public func add(promptTokenIDs: [Int32], params: SamplingParams) throws -> String {
        try params.validate(vocabularySize: model.config.vocabularySize)
        guard !promptTokenIDs.isEmpty else { throw EngineError("prompt: must contain at least one token") }
        if let bad = promptTokenIDs.first(where: { $0 < 0 || Int($0) >= model.config.vocabularySize }) {
            throw EngineError("prompt: token id \(bad) is outside the vocabulary (0..<\(model.config.vocabularySize))")
        }
        let requestID = "req-\(nextID)"
        nextID += 1
        try engine.add(Request(requestID: requestID, promptTokenIDs: promptTokenIDs, samplingParams: params,
                               eosTokenIDs: model.eosTokenIDs))
        prompts[requestID] = promptTokenIDs
        return requestID
    }

    /// Runs steps until every queued request is done; `onUpdate` sees each step's updates
    /// (for streaming). Returns the completions in the order the requests were added.
    public func run(onUpdate: ([RequestUpdate]) -> Void = { _ in }) throws -> [Completion] {
        var tokens: [String: [Int32]] = [:]
        var finished: [Completion] = []
        while engine.hasUnfinishedRequests {
            let updates = try engine.step()
            for update in updates {
                tokens[update.requestID, default: []].append(contentsOf: update.newTokenIDs)
                if let reason = update.finishReason {
                    let ids = tokens[update.requestID] ?? []
                    finished.append(Completion(
                        requestID: update.requestID, promptTokenIDs: prompts.removeValue(forKey: update.requestID) ?? [],
                        tokenIDs: ids, finishReason: reason,
                        text: model.tokenizer.decode(ids, skipSpecialTokens: true)))
                }
            }
            onUpdate(updates)
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
