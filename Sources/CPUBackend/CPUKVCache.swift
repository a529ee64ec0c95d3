import Foundation

/// The paged KV cache on the CPU: for each layer, a K and a V pool of
/// [blockCount, blockSize, kvHeadCount, headDim] floats. Block 0 is the null block the
/// block manager never hands out. Memory is mapped anonymously, so pages the cache never
/// touches cost nothing.
public final class CPUKVCache: @unchecked Sendable {
    public let layerCount: Int
    public let blockCount: Int
    public let blockSize: Int
    /// kvHeadCount * headDim: floats per token per layer in K (and in V).
    public let kvDim: Int
    private let base: UnsafeMutableRawPointer
    private let byteCount: Int

    /// Bytes one token takes in the cache over all layers (K and V).
    public static func bytesPerToken(layerCount: Int, kvDim: Int) -> Int { layerCount * 2 * kvDim * 4 }

    public init(layerCount: Int, blockCount: Int, blockSize: Int, kvDim: Int) throws {
        self.layerCount = layerCount
        self.blockCount = blockCount
        self.blockSize = blockSize
        self.kvDim = kvDim
        byteCount = layerCount * 2 * blockCount * blockSize * kvDim * 4
        let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw CPUBackendError("could not reserve \(byteCount >> 20) MiB for the KV cache (\(blockCount) blocks)")
        }
        base = mapped
    }

    private var floatsPerLayerPool: Int { blockCount * blockSize * kvDim }

    /// [blockCount, blockSize, kvDim] keys of `layer`.
    public func keys(layer: Int) -> UnsafeMutablePointer<Float> {
        base.assumingMemoryBound(to: Float.self) + (2 * layer) * floatsPerLayerPool
    }

    /// [blockCount, blockSize, kvDim] values of `layer`.
    public func values(layer: Int) -> UnsafeMutablePointer<Float> {
        base.assumingMemoryBound(to: Float.self) + (2 * layer + 1) * floatsPerLayerPool
    }

    deinit { munmap(base, byteCount) }
}

/// A failure of the CPU backend, described in one line.
public struct CPUBackendError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
