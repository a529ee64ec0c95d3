import CTernKernels
import Foundation

/// The CPU backend's worker threads (a `tern_pool`): one per core by default, the calling
/// thread included. Kernels split their work over it. Runs one job at a time: the engine
/// loop is its only caller.
public final class CPUThreadPool: @unchecked Sendable {
    public let pointer: OpaquePointer
    public let threadCount: Int

    /// `threads` <= 0 means one per available core.
    public init(threads: Int = 0) {
        let count = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        threadCount = count
        pointer = tern_pool_create(Int32(count))
    }

    deinit { tern_pool_destroy(pointer) }
}
