/// The identity of a full KV block's contents together with everything before it in its
/// sequence: xxHash64 of (parent block's hash, the block's token ids, extra keys).
///
/// Byte layout hashed (all little-endian): the parent's 64-bit hash (0 for a sequence's first
/// block), each token id as 4 bytes, then for a first block the UTF-8 of the request's cache
/// salt, if any. The hash only finds candidates: a hit is always checked against the block's
/// stored token ids and its parent, so a collision costs a cache miss, never a wrong block.
public struct BlockHash: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64

    public init(value: UInt64) {
        self.value = value
    }

    /// The hash of one full block.
    /// - Parameters:
    ///   - parent: the previous block's hash; nil for the first block of a sequence.
    ///   - tokenIDs: the block's token ids (`blockSize` of them).
    ///   - salt: extra key mixed into the first block only, isolating caches (vLLM's `cache_salt`).
    public init(parent: BlockHash?, tokenIDs: ArraySlice<Int32>, salt: String? = nil) {
        let saltBytes = parent == nil ? salt.map { Array($0.utf8) } ?? [] : []
        let byteCount = 8 + 4 * tokenIDs.count + saltBytes.count
        value = withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 8) { buffer in
            buffer.storeBytes(of: (parent?.value ?? 0).littleEndian, toByteOffset: 0, as: UInt64.self)
            var offset = 8
            for token in tokenIDs {
                buffer.storeBytes(of: token.littleEndian, toByteOffset: offset, as: Int32.self)
                offset += 4
            }
            for byte in saltBytes {
                buffer[offset] = byte
                offset += 1
            }
            return XXHash64.hash(UnsafeRawBufferPointer(buffer))
        }
    }

    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Computes a block's hash from its parent's hash, its token ids and the request's cache salt.
/// The default is `BlockHash.init(parent:tokenIDs:salt:)`; tests substitute a colliding one.
typealias BlockHashFunction = (_ parent: BlockHash?, _ tokenIDs: ArraySlice<Int32>, _ salt: String?) -> BlockHash
