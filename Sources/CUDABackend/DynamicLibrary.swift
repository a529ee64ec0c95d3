#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened at run time with `dlopen`, so that no CUDA library is needed to
/// build or start Tern: only `--device cuda` opens them.
final class DynamicLibrary: @unchecked Sendable {
    let name: String
    private let handle: UnsafeMutableRawPointer

    /// Opens the first of `candidates` that loads (sonames or absolute paths); `missing` says
    /// what the library is and how to get it, for the error when none loads.
    init(candidates: [String], missing: String, global: Bool = false) throws {
        var failures: [String] = []
        for candidate in candidates {
            if let handle = dlopen(candidate, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL)) {
                self.handle = handle
                name = candidate
                return
            }
            failures.append(dlerror().map { String(cString: $0) } ?? candidate)
        }
        throw CUDAError.libraryMissing(
            "\(missing) (tried \(candidates.joined(separator: ", ")): \(failures.last ?? "not found")")
    }

    /// The function `symbol` as the C function type `T`.
    func function<T>(_ symbol: String, as type: T.Type = T.self) throws -> T {
        guard let address = dlsym(handle, symbol) else {
            throw CUDAError.libraryMissing("\(name) has no symbol \(symbol): the library is too old for Tern")
        }
        return unsafeBitCast(address, to: T.self)
    }
}
