import Foundation
import Testing
@testable import CUDABackend

/// Where NVRTC is on this machine: `$TERN_NVRTC_DIR`, else the lib folder of the PyPI wheel
/// `nvidia-cuda-nvrtc` (`pip install nvidia-cuda-nvrtc==13.0.88`), found through python3.
enum NVRTCLocation {
    static let directory: String? = {
        if let explicit = ProcessInfo.processInfo.environment["TERN_NVRTC_DIR"], !explicit.isEmpty { return explicit }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", """
            import importlib.util, os
            spec = importlib.util.find_spec('nvidia')
            for root in (spec.submodule_search_locations if spec else []):
                for sub in ('cu13/lib', 'cuda_nvrtc/lib'):
                    if os.path.exists(os.path.join(root, sub, 'libnvrtc.so.13')): print(os.path.join(root, sub))
            """]
        let pipe = Pipe()
        python.standardOutput = pipe
        python.standardError = FileHandle.nullDevice
        guard (try? python.run()) != nil else { return nil }
        python.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return output.split(separator: "\n").first.map(String.init)
    }()

    static var found: Bool { directory != nil }
}

@Suite("Kernels compile through NVRTC for sm_90")
struct KernelCompileTests {
    @Test(.enabled(if: NVRTCLocation.found,
                   "skipped: NVRTC not found (pip install nvidia-cuda-nvrtc==13.0.88, or set TERN_NVRTC_DIR)"))
    func everyKernelCompilesToACubin() throws {
        let nvrtc = try NVRTC(directory: try #require(NVRTCLocation.directory))
        let cubin = try nvrtc.compile(source: KernelSource.module, name: "tern-kernels", architecture: "sm_90")
        #expect(Array(cubin.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46], "a cubin is an ELF file")
        let text = String(decoding: cubin.map { $0 == 0 ? 10 : $0 }, as: UTF8.self)
        for name in KernelSource.functionNames {
            #expect(text.contains(name), "the cubin defines \(name)")
        }
    }

    @Test(.enabled(if: NVRTCLocation.found,
                   "skipped: NVRTC not found (pip install nvidia-cuda-nvrtc==13.0.88, or set TERN_NVRTC_DIR)"))
    func compileErrorsCarryTheLog() throws {
        let nvrtc = try NVRTC(directory: try #require(NVRTCLocation.directory))
        #expect {
            _ = try nvrtc.compile(source: "extern \"C\" __global__ void broken() { undeclared = 1; }",
                                  name: "broken.cu", architecture: "sm_90")
        } throws: { error in
            "\(error)".contains("broken.cu") && "\(error)".contains("undeclared")
        }
    }

    @Test(.enabled(if: NVRTCLocation.found,
                   "skipped: NVRTC not found (pip install nvidia-cuda-nvrtc==13.0.88, or set TERN_NVRTC_DIR)"))
    func secondLookupReadsTheCacheWithoutCompiling() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-kernel-cache-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = KernelCache(directory: directory)
        let source = "extern \"C\" __global__ void tern_fill(float *x, float v) { x[threadIdx.x] = v; }"
        let first = try cache.cubin(source: source, name: "fill", architecture: "sm_90") {
            try NVRTC(directory: try #require(NVRTCLocation.directory))
        }
        var compilerOpened = false
        let second = try cache.cubin(source: source, name: "fill", architecture: "sm_90") {
            compilerOpened = true
            return try NVRTC(directory: try #require(NVRTCLocation.directory))
        }
        #expect(first.compiled && !second.compiled && !compilerOpened)
        #expect(first.image == second.image)
        let other = try cache.cubin(source: source, name: "fill", architecture: "sm_80") {
            try NVRTC(directory: try #require(NVRTCLocation.directory))
        }
        #expect(other.compiled, "another architecture is another cache entry")
    }
}
