import CPUBackend
import CUDABackend
import Foundation
import Logging
import ModelLoading
import Models
import Tokenization

/// Where the model runs.
public enum Device: String, Sendable, CaseIterable {
    case cpu
    case cuda
}

/// How to load a model and size its KV cache.
public struct LoadOptions: Sendable {
    public var device: Device = .cpu
    /// CPU worker threads; 0 = one per core.
    public var threads: Int = 0
    /// Ranks the model is split over (vLLM's `--tensor-parallel-size`): on the CPU, in-process
    /// ranks that take turns on the thread pool (`LlamaCPUModel`); more than one GPU is not
    /// built yet.
    public var tensorParallelSize: Int = 1
    /// Bytes the CPU KV cache may take (all layers, K and V).
    public var kvCacheBytes: Int = 1 << 30
    /// Tokens per KV page.
    public var blockSize: Int = 16
    /// Longest context a request may reach; 0 = the model's own limit.
    public var maxModelLen: Int = 0
    /// Fraction of the GPU's memory Tern may take (weights, activations, KV cache).
    public var gpuMemoryUtilization: Double = 0.9
    /// The largest step the GPU buffers are sized for: tokens, and sequences.
    public var maxBatchTokens: Int = 8192
    public var maxSequences: Int = 256
    /// Replay CUDA graphs for decode steps (off: every step launches its kernels, vLLM's
    /// `--enforce-eager`).
    public var cudaGraphs: Bool = true
    /// At most this many KV blocks (a draft model's pool, as large as its target's).
    public var maxCacheBlocks: Int?
    /// Run on this thread pool instead of a new one (a draft model shares its target's cores).
    public var cpuPool: CPUThreadPool?
    /// The linear layers' format on the GPU (vLLM's `--quantization`; nil keeps bf16). The CPU
    /// runs the file's own formats and refuses one.
    public var quantization: WeightQuantization?
    /// A chat template to use instead of the model's own (vLLM's `--chat-template`); needed
    /// for files that carry none, such as PyPI's Gemma 3 270M GGUF.
    public var chatTemplate: String?
    /// Kernels whose reduction order does not depend on the batch (vLLM's
    /// `--batch-invariant`), so that a request's greedy tokens are the same alone or among
    /// others; CPU only so far.
    public var batchInvariant = false

    public init() {}
}

/// A model ready to run: its config, tokenizer, chat template and executor.
public final class LoadedModel {
    /// The name clients use: the model argument as given (as vLLM serves it), or
    /// `smollm2-135m-instruct` for the default.
    public let name: String
    /// The model's own name, for logs (GGUF `general.name`, else the file or folder name).
    public let displayName: String
    public let source: ModelSource
    public let config: ModelConfig
    public let tokenizer: Tokenizer
    public let executor: any ModelExecutor
    /// The context limit requests are held to.
    public let maxModelLen: Int
    /// The chat template conversations are rendered with: the one given at load, else the
    /// tokenizer's; nil when neither has one.
    public let chatTemplate: String?

    /// End-of-sequence ids from the tokenizer and the model config together.
    public var eosTokenIDs: Set<Int32> { tokenizer.eosTokenIDs.union(config.eosTokenIDs) }

    /// Resolves `argument` (nil = the embedded default) and loads it. Logs progress.
    public init(_ argument: String?, options: LoadOptions, logger: Logger) throws {
        let started = ContinuousClock.now
        if let quantization = options.quantization, options.device != .cuda {
            throw EngineError("--quantization \(quantization.rawValue) runs on --device cuda; on the CPU Tern runs a file's own formats (a quantized GGUF such as Q8_0 or Q4_K_M)")
        }
        if options.batchInvariant && options.device == .cuda {
            throw EngineError("--batch-invariant runs on --device cpu only so far: the CUDA kernels (a GEMV up to 4 tokens, cuBLASLt above, split-K attention) still change their reduction order with the batch")
        }
        source = try ModelLocator().resolve(argument)
        name = argument ?? ModelLocator.defaultModelName
        if options.device == .cuda && options.tensorParallelSize > 1 {
            throw EngineError("--tensor-parallel-size \(options.tensorParallelSize) needs multi-GPU tensor parallelism "
                                  + "(NCCL), which is not built yet; --device cuda runs on one GPU "
                                  + "(--device cpu runs the same sharding in-process)")
        }
        // Opened before the weights are read, so that a machine without CUDA fails at once.
        let cudaDevice = options.device == .cuda ? try CUDADevice() : nil
        logger.info("loading model", metadata: ["path": "\(source.path)"])
        let store: any WeightStore
        let naming: WeightNaming
        switch source {
        case .gguf(let path):
            let file = try GGUFFile(path: path)
            config = try ModelConfig(gguf: file)
            tokenizer = try Self.tokenizer(path: path) { try Tokenizer(ggufMetadata: file.metadata) }
            displayName = file.metadata["general.name"]?.string ?? URL(fileURLWithPath: path).lastPathComponent
            store = file
            naming = .gguf
        case .huggingFaceFolder(let path):
            let folder = try HFModelFolder(path: path)
            config = try ModelConfig(huggingFace: folder.config, source: folder.configPath)
            tokenizer = try Self.tokenizer(path: path) { try Tokenizer(folder: URL(fileURLWithPath: path)) }
            displayName = URL(fileURLWithPath: path).lastPathComponent
            store = try folder.openWeights()
            naming = .huggingFace
        }
        chatTemplate = options.chatTemplate ?? tokenizer.chatTemplate
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw ModelLoadError(path: source.path, kind: .malformed,
                                 "the tokenizer has \(tokenizer.vocabularySize) tokens but the model's vocabulary "
                                     + "(embedding rows) is \(config.vocabularySize)")
        }
        var weights = try LlamaWeights(store: store, config: config, naming: naming) { done, total in
            if done == total || done % 8 == 0 { logger.debug("checked layer weights", metadata: ["layers": "\(done)/\(total)"]) }
        }
        if let quantization = config.checkpointQuantization, cudaDevice == nil {
            // The CPU has no FP8 kernels: it runs the checkpoint's values exactly, in f32.
            logger.notice("the checkpoint's linear layers are \(quantization.rawValue.uppercased()); the CPU runs them dequantized to f32 (4 bytes a weight)")
            weights = weights.dequantizingFP8()
        }
        maxModelLen = options.maxModelLen > 0 ? min(options.maxModelLen, config.maxPositionEmbeddings)
                                              : config.maxPositionEmbeddings

        if let cudaDevice {
            let model = try LlamaCUDAModel(
                config: config, weights: weights, device: cudaDevice, blockSize: options.blockSize,
                maxBatchTokens: options.maxBatchTokens, maxSequences: options.maxSequences, maxModelLen: maxModelLen,
                memoryUtilization: options.gpuMemoryUtilization, maxCacheBlocks: options.maxCacheBlocks,
                quantization: options.quantization, cudaGraphs: options.cudaGraphs, logger: logger)
            executor = model
            logger.info("model ready", metadata: [
                "model": "\(displayName)", "family": "\(config.family)", "layers": "\(config.layerCount)",
                "device": "\(cudaDevice.name) (\(cudaDevice.architecture))", "weights_MiB": "\(model.weightBytes >> 20)",
                "quantization": "\(options.quantization?.rawValue ?? "none (bf16)")",
                "load_s": "\(String(format: "%.2f", (ContinuousClock.now - started).seconds))",
            ])
            logger.info("KV cache", metadata: [
                "blocks": "\(model.blockCount - 1)", "block_size": "\(options.blockSize)",
                "tokens": "\((model.blockCount - 1) * options.blockSize)", "MiB": "\(model.cacheBytes >> 20)",
                "gpu_memory_utilization": "\(options.gpuMemoryUtilization)",
            ])
            return
        }
        // Each rank caches its own KV heads: more than the model's where they are replicated.
        let plan = try TensorParallelPlan(config: config, rankCount: options.tensorParallelSize)
        let bytesPerToken = CPUKVCache.bytesPerToken(layerCount: config.layerCount,
                                                     kvDim: plan.kvHeadsHeld * config.headDim)
        let blockCount = min(options.kvCacheBytes / (bytesPerToken * options.blockSize) + 1,
                             options.maxCacheBlocks ?? .max)
        guard blockCount > 1 else {
            throw EngineError("KV cache budget of \(options.kvCacheBytes) bytes holds no block of \(options.blockSize) tokens (\(bytesPerToken) bytes per token)")
        }
        let pool = options.cpuPool ?? CPUThreadPool(threads: options.threads)
        if options.batchInvariant { pool.batchInvariant = true }
        executor = try LlamaCPUModel(config: config, weights: weights, pool: pool, blockCount: blockCount,
                                     blockSize: options.blockSize, tensorParallelSize: options.tensorParallelSize)
        let seconds = (ContinuousClock.now - started).seconds
        logger.info("model ready", metadata: [
            "model": "\(displayName)", "family": "\(config.family)", "layers": "\(config.layerCount)",
            "hidden": "\(config.hiddenSize)", "weights": "\(weights.embedding.dtype)/\(weights.layers.first?.query.weight.dtype.description ?? "-")",
            "threads": "\(pool.threadCount)", "tensor_parallel_size": "\(options.tensorParallelSize)",
            "load_s": "\(String(format: "%.2f", seconds))",
        ])
        logger.info("KV cache", metadata: [
            "blocks": "\(blockCount - 1)", "block_size": "\(options.blockSize)",
            "tokens": "\((blockCount - 1) * options.blockSize)",
            "MiB": "\((blockCount * options.blockSize * bytesPerToken) >> 20)",
        ])
    }
}

extension LoadedModel {
    /// Builds the tokenizer, turning its errors into one line that names the model file.
    private static func tokenizer(path: String, _ make: () throws -> Tokenizer) throws -> Tokenizer {
        do {
            return try make()
        } catch let error as TokenizerError {
            throw ModelLoadError(path: path, kind: .malformed, "tokenizer: \(error)")
        }
    }
}

extension LoadedModel {
    /// The CPU thread pool the model runs on, if it runs on the CPU.
    public var cpuPool: CPUThreadPool? { (executor as? LlamaCPUModel)?.pool }
}

/// An engine failure described in one line.
public struct EngineError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
