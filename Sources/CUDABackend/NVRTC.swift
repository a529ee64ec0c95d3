#if canImport(Glibc)
import Glibc
#endif

/// NVRTC, the CUDA runtime compiler (`libnvrtc.so.13`, else `.12`), opened with `dlopen`.
/// It turns a kernel source into a cubin for one GPU architecture (a cubin, not PTX, so a
/// newer NVRTC cannot emit PTX the installed driver refuses).
public final class NVRTC: @unchecked Sendable {
    private let library: DynamicLibrary
    private let nvrtcVersion: @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
    private let nvrtcGetErrorString: @convention(c) (Int32) -> UnsafePointer<CChar>?
    private let nvrtcCreateProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>,
                                                    UnsafePointer<CChar>?, Int32,
                                                    UnsafePointer<UnsafePointer<CChar>?>?,
                                                    UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private let nvrtcCompileProgram: @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private let nvrtcGetProgramLogSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
    private let nvrtcGetProgramLog: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
    private let nvrtcGetCUBINSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
    private let nvrtcGetCUBIN: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
    private let nvrtcDestroyProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    /// "13.0" and the like; part of the kernel cache key.
    public let version: String

    /// Opens NVRTC from the loader's path, or from `directory` when given (a pip wheel's
    /// `nvidia/cu13/lib`), in which case its `libnvrtc-builtins` is opened first, globally,
    /// because the loader would not find it there on its own.
    public init(directory: String? = nil) throws {
        let candidates: [String]
        if let directory {
            let builtins = ["libnvrtc-builtins.so.13.0", "libnvrtc-builtins.so.12"]
                .map { "\(directory)/\($0)" }
            _ = try DynamicLibrary(candidates: builtins, missing: "NVRTC's builtins library", global: true)
            candidates = ["\(directory)/libnvrtc.so.13", "\(directory)/libnvrtc.so.12"]
        } else {
            candidates = ["libnvrtc.so.13", "libnvrtc.so.12", "/usr/local/cuda/lib64/libnvrtc.so.13",
                          "/usr/local/cuda/lib64/libnvrtc.so.12"]
        }
        let lib = try DynamicLibrary(
            candidates: candidates,
            missing: "NVRTC (libnvrtc.so.13 or .12) was not found; it compiles Tern's kernels on first use. Install the CUDA toolkit (or `pip install nvidia-cuda-nvrtc`) and put its lib directory on LD_LIBRARY_PATH")
        library = lib
        nvrtcVersion = try lib.function("nvrtcVersion")
        nvrtcGetErrorString = try lib.function("nvrtcGetErrorString")
        nvrtcCreateProgram = try lib.function("nvrtcCreateProgram")
        nvrtcCompileProgram = try lib.function("nvrtcCompileProgram")
        nvrtcGetProgramLogSize = try lib.function("nvrtcGetProgramLogSize")
        nvrtcGetProgramLog = try lib.function("nvrtcGetProgramLog")
        nvrtcGetCUBINSize = try lib.function("nvrtcGetCUBINSize")
        nvrtcGetCUBIN = try lib.function("nvrtcGetCUBIN")
        nvrtcDestroyProgram = try lib.function("nvrtcDestroyProgram")
        var major: Int32 = 0
        var minor: Int32 = 0
        _ = nvrtcVersion(&major, &minor)
        version = "\(major).\(minor)"
    }

    private func check(_ result: Int32, _ call: String) throws {
        guard result != 0 else { return }
        let message = nvrtcGetErrorString(result).map { String(cString: $0) } ?? "unknown error"
        throw CUDAError.callFailed(call: call, code: result, message: message)
    }

    /// Compiles `source` (named `name` in messages) for `architecture` ("sm_90") and returns
    /// the cubin. Throws `CUDAError.compileFailed` with the compiler's log on a source error.
    public func compile(source: String, name: String, architecture: String,
                        options extra: [String] = []) throws -> [UInt8] {
        var program: OpaquePointer?
        try check(nvrtcCreateProgram(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = nvrtcDestroyProgram(&program) }
        let options = ["--gpu-architecture=\(architecture)", "-std=c++17"] + extra
        let cOptions = options.map { strdup($0) }
        defer { cOptions.forEach { free($0) } }
        let compiled = cOptions.map { UnsafePointer($0) }.withUnsafeBufferPointer { pointers in
            nvrtcCompileProgram(program, Int32(pointers.count), pointers.baseAddress)
        }
        if compiled != 0 {
            var logSize = 0
            _ = nvrtcGetProgramLogSize(program, &logSize)
            var log = [CChar](repeating: 0, count: max(logSize, 1))
            _ = nvrtcGetProgramLog(program, &log)
            let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CUDAError.compileFailed(kernel: name, log: text.isEmpty ? "error \(compiled)" : text)
        }
        var size = 0
        try check(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize")
        var cubin = [CChar](repeating: 0, count: size)
        try check(nvrtcGetCUBIN(program, &cubin), "nvrtcGetCUBIN")
        return cubin.map { UInt8(bitPattern: $0) }
    }
}
