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

    /// Batch-invariant mode of the kernels run on this pool (`tern_pool_set_batch_invariant`):
    /// a token's results are the same bits whatever shares its step. Set it between steps.
    public var batchInvariant: Bool {
        get { tern_pool_batch_invariant(pointer) != 0 }
        set { tern_pool_set_batch_invariant(pointer, newValue ? 1 : 0) }
    }

    deinit { tern_pool_destroy(pointer) }
}
