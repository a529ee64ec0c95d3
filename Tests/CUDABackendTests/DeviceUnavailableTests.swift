import Foundation
import Testing
@testable import CUDABackend
import Engine
import Logging
import Models

#if canImport(Glibc)
import Glibc
#endif

/// Whether this machine has the NVIDIA driver library (then these tests do not apply).
private let driverPresent: Bool = {
    guard let handle = dlopen("libcuda.so.1", RTLD_NOW) else { return false }
    dlclose(handle)
    return true
}()

/// Whether this machine has NCCL (then the missing-library test does not apply).
private let ncclPresent: Bool = {
    guard let handle = dlopen("libnccl.so.2", RTLD_NOW) else { return false }
    dlclose(handle)
    return true
}()

@Suite("--device cuda without a GPU")
struct DeviceUnavailableTests {
    @Test(.enabled(if: !driverPresent, "skipped: this machine has an NVIDIA driver"))
    func openingADeviceNamesCUDA() {
        #expect {
            _ = try CUDADevice()
        } throws: { error in
            "\(error)".hasPrefix("CUDA:") && "\(error)".contains("libcuda.so.1")
        }
    }

    @Test(.enabled(if: !driverPresent, "skipped: this machine has an NVIDIA driver"))
    func loadingAModelFailsFastNamingCUDA() throws {
        // A folder that looks like an HF model: the device is opened before any weight is read.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tern-no-gpu-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}"#.utf8)
            .write(to: folder.appendingPathComponent("config.json"))
        try Data().write(to: folder.appendingPathComponent("model.safetensors"))
        var options = LoadOptions()
        options.device = .cuda
        let started = ContinuousClock.now
        #expect {
            _ = try LoadedModel(folder.path, options: options, logger: Logger(label: "test"))
        } throws: { error in
            "\(error)".contains("CUDA")
        }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func quantizationOnTheCPUIsRefusedByName() throws {
        // The check comes before the file is read: any argument gives the same answer.
        var options = LoadOptions()
        options.quantization = .fp8
        #expect {
            _ = try LoadedModel("/nonexistent/model.gguf", options: options, logger: Logger(label: "test"))
        } throws: { error in
            "\(error)".contains("--quantization fp8") && "\(error)".contains("--device cuda")
        }
    }

    @Test(.enabled(if: !ncclPresent, "skipped: this machine has NCCL"))
    func missingNCCLIsNamed() {
        #expect {
            _ = try NCCL()
        } throws: { error in
            "\(error)".contains("libnccl.so.2") && "\(error)".contains("nvidia-nccl")
        }
    }
}
