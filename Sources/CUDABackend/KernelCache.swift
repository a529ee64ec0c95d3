import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Compiled kernels on disk, so that only the first start on a machine runs NVRTC:
/// `<directory>/<name>-<hash>.cubin`, the hash covering the source and the architecture,
/// the file name also naming the NVRTC version that compiled it. The directory is `$TERN_KERNEL_CACHE`, else `$XDG_CACHE_HOME/tern/kernels`,
/// else `~/.cache/tern/kernels`.
public struct KernelCache: Sendable {
    public let directory: String

    public init(directory: String? = nil) {
        let environment = ProcessInfo.processInfo.environment
        if let directory {
            self.directory = directory
        } else if let explicit = environment["TERN_KERNEL_CACHE"], !explicit.isEmpty {
            self.directory = explicit
        } else {
            let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? "\(environment["HOME"] ?? NSTemporaryDirectory())/.cache"
            self.directory = "\(base)/tern/kernels"
        }
    }

    /// The cubin of `source` for `architecture`: read from the cache, or compiled with the
    /// NVRTC that `compiler()` opens (only on a miss) and stored. `compiled` tells which.
    public func cubin(source: String, name: String, architecture: String,
                      compiler: () throws -> NVRTC) throws -> (image: [UInt8], compiled: Bool) {
        let sourceKey = Self.hash(source + "\u{0}" + architecture)
        // The NVRTC version is only known once NVRTC is open, and opening it is what a warm
        // start avoids: the version goes into the file name, and the lookup accepts any
        // (CUDA's minor-version compatibility lets the driver load a cubin of any 13.x).
        if let cached = try existing(name: name, key: sourceKey) { return (cached, false) }
        let compilerInstance = try compiler()
        let image = try compilerInstance.compile(source: source, name: name, architecture: architecture)
        try store(image, path: "\(directory)/\(name)-\(sourceKey)-nvrtc\(compilerInstance.version).cubin")
        return (image, true)
    }

    private func existing(name: String, key: String) throws -> [UInt8]? {
        let prefix = "\(name)-\(key)-nvrtc"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        guard let file = entries.sorted().last(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".cubin") }),
              let data = FileManager.default.contents(atPath: "\(directory)/\(file)"), !data.isEmpty else {
            return nil
        }
        return [UInt8](data)
    }

    private func store(_ image: [UInt8], path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Write then rename, so that a concurrent start never reads half a file.
            let temporary = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
            try Data(image).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else {
                throw CUDAError.unsupported("rename to \(path) failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            throw CUDAError.unsupported("could not write the kernel cache at \(path): \(error)")
        }
    }

    /// A 128-bit FNV-1a hash as 32 hex digits (a cache key, not a security measure).
    static func hash(_ text: String) -> String {
        var low: UInt64 = 0xcbf2_9ce4_8422_2325
        var high: UInt64 = 0x6c62_272e_07bb_0142
        for byte in text.utf8 {
            low = (low ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            high = (high ^ UInt64(byte) ^ (low >> 29)) &* 0x0000_0100_0000_01b3
        }
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(high) + hex(low)
    }
}
