/// A CUDA failure described in one line: which library or call failed and why.
public enum CUDAError: Error, CustomStringConvertible, Equatable {
    /// A CUDA library could not be opened; the message names it and how to get it.
    case libraryMissing(String)
    /// A driver, NVRTC or cuBLASLt call returned an error.
    case callFailed(call: String, code: Int32, message: String)
    /// NVRTC rejected a kernel source; carries the compiler's log.
    case compileFailed(kernel: String, log: String)
    /// A request the backend cannot serve (sizes, shapes, types).
    case unsupported(String)

    public var description: String {
        switch self {
        case .libraryMissing(let message):
            "CUDA: \(message)"
        case .callFailed(let call, let code, let message):
            "CUDA: \(call) failed with error \(code): \(message)"
        case .compileFailed(let kernel, let log):
            "CUDA: NVRTC could not compile \(kernel): \(log.split(separator: "\n").prefix(8).joined(separator: " | "))"
        case .unsupported(let message):
            "CUDA: \(message)"
        }
    }
}
