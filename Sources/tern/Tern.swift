import ArgumentParser
import Engine
import EngineCore
import Foundation
import Logging
import Models
import SpeculativeDecoding

@main
struct Tern: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "An LLM inference and serving engine in Swift.",
        subcommands: [ServeCommand.self, GenerateCommand.self, ChatCommand.self, BenchCommand.self, DebugCommand.self])
}

/// Options every command that loads a model takes.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A .gguf file, a Hugging Face model folder, or smollm2-135m-instruct (the default).")
    var model: String?

    @Option(help: "Where to run the model: cpu or cuda.")
    var device: Device = .cpu

    @Option(help: "CPU threads (0 = one per core).")
    var threads: Int = 0

    @Option(help: "Ranks to split the model over (vLLM's flag). On --device cpu, in-process ranks that test the sharding; more than one GPU is not built yet.")
    var tensorParallelSize: Int = 1

    @Option(name: .customLong("kv-cache-memory"), help: "MiB of memory for the CPU KV cache.")
    var kvCacheMiB: Int = 1024

    @Option(help: "Longest context in tokens (0 = the model's own limit).")
    var maxModelLen: Int = 0

    @Option(help: "Fraction of the GPU's memory for the weights, activations and KV cache (--device cuda).")
    var gpuMemoryUtilization: Double = 0.9

    @Option(name: [.customShort("q"), .long],
            help: "Hold the linear layers' weights on the GPU as: fp8 (e4m3, a scale per output channel, made at load; --device cuda).")
    var quantization: WeightQuantization?

    @Flag(help: "Launch every kernel of every step instead of replaying CUDA graphs for decode steps (--device cuda).")
    var enforceEager = false

    @Flag(help: "Kernels whose reduction order does not depend on the batch, so that a greedy request gives the same tokens alone or among others (vLLM's flag; --device cpu).")
    var batchInvariant = false

    @Option(help: ArgumentHelp("A chat template to use instead of the model's own: a file, or the template itself.",
                               valueName: "file-or-template"))
    var chatTemplate: String?

    @Option(name: [.customLong("log-level"), .customLong("uvicorn-log-level")],
            help: "Log level: trace, debug, info, notice, warning, error (--uvicorn-log-level is vLLM's spelling).")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
        guard tensorParallelSize >= 1 else { throw ValidationError("--tensor-parallel-size must be >= 1") }
        guard kvCacheMiB > 0 else { throw ValidationError("--kv-cache-memory must be > 0") }
        guard maxModelLen >= 0 else { throw ValidationError("--max-model-len must be >= 0") }
        guard gpuMemoryUtilization > 0, gpuMemoryUtilization <= 1 else {
            throw ValidationError("--gpu-memory-utilization must be in (0, 1]")
        }
    }

    var loadOptions: LoadOptions {
        var options = LoadOptions()
        options.device = device
        options.threads = threads
        options.tensorParallelSize = tensorParallelSize
        options.kvCacheBytes = kvCacheMiB << 20
        options.maxModelLen = maxModelLen
        options.gpuMemoryUtilization = gpuMemoryUtilization
        options.cudaGraphs = !enforceEager
        options.quantization = quantization
        options.batchInvariant = batchInvariant
        return options
    }

    func makeLogger() -> Logger {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "tern")
        logger.logLevel = logLevel
        return logger
    }

    func load(logger: Logger) throws -> LoadedModel {
        var options = loadOptions
        // As vLLM: a path that names a file is read, anything else is the template itself.
        if let chatTemplate {
            options.chatTemplate = FileManager.default.fileExists(atPath: chatTemplate)
                ? try String(contentsOfFile: chatTemplate, encoding: .utf8) : chatTemplate
        }
        return try LoadedModel(model, options: options, logger: logger)
    }

    /// The model, and the draft model that `speculative` names (method draft_model). On a GPU
    /// the target takes all but `draftMemoryShare` of --gpu-memory-utilization and the draft
    /// the rest; its KV pool is never larger than the target's, and on the CPU it shares the
    /// target's threads.
    func load(logger: Logger, speculative: SpeculativeConfig?) throws -> (model: LoadedModel, draft: LoadedModel?) {
        guard let speculative, speculative.method == .draftModel, let path = speculative.model else {
            return (try load(logger: logger), nil)
        }
        var targetOptions = loadOptions
        let draftMemoryShare = 0.1
        if device == .cuda {
            guard gpuMemoryUtilization > draftMemoryShare + 0.05 else {
                throw ValidationError("--gpu-memory-utilization must exceed \(draftMemoryShare + 0.05) with a draft model (it takes \(draftMemoryShare))")
            }
            targetOptions.gpuMemoryUtilization = gpuMemoryUtilization - draftMemoryShare
        }
        let target = try LoadedModel(model, options: targetOptions, logger: logger)
        var draftOptions = loadOptions
        draftOptions.maxModelLen = target.maxModelLen
        draftOptions.maxCacheBlocks = target.executor.blockCount
        draftOptions.cpuPool = target.cpuPool
        draftOptions.tensorParallelSize = 1  // the draft runs whole (vLLM's draft_tensor_parallel_size 1)
        logger.info("loading the draft model", metadata: ["path": "\(path)"])
        let draft = try LoadedModel(path, options: draftOptions, logger: logger)
        return (target, draft)
    }
}

extension Device: ExpressibleByArgument {}
extension WeightQuantization: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Sampling options shared by `generate` and `chat`.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Most tokens to generate.")
    var maxTokens: Int = 256

    @Option(help: "Sampling temperature; 0 is greedy (the default of generate; chat uses 0.7).")
    var temperature: Float?

    @Option(help: "Nucleus sampling: keep the most likely tokens up to this probability mass.")
    var topP: Float = 1

    @Option(help: "Keep only the K most likely tokens (0 = all).")
    var topK: Int = 0

    @Option(help: "Seed of the random draws, for reproducible sampling.")
    var seed: UInt64?
}

extension SamplingOptions {
    func params(defaultTemperature: Float) -> SamplingParams {
        SamplingParams(temperature: temperature ?? defaultTemperature, topP: topP, topK: topK, seed: seed,
                       maxTokens: maxTokens)
    }
}
