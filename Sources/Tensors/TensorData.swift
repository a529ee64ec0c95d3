/// A read-only view of one weight tensor's bytes, usually inside a memory-mapped file.
///
/// `shape` is outermost first, as in PyTorch and safetensors: an HF linear weight is
/// `[outFeatures, inFeatures]` and each row (the last dimension) is contiguous. For a
/// quantized type the last dimension is a multiple of `dtype.blockSize` and each row is
/// `shape.last! / blockSize` blocks. The bytes stay valid while the owner (the file) lives.
public struct TensorData: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let bytes: UnsafeRawBufferPointer

    public init(name: String, dtype: DType, shape: [Int], bytes: UnsafeRawBufferPointer) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Rows when viewed as a matrix `[elementCount / shape.last, shape.last]`.
    public var rows: Int { shape.count <= 1 ? 1 : elementCount / shape.last! }
    public var columns: Int { shape.last ?? 1 }
    /// Bytes of one row.
    public var rowBytes: Int { dtype.byteCount(elements: columns) }
}

extension TensorData {
    /// Rows `range` of the tensor viewed as a matrix [`rows`, `columns`], as a matrix of their
    /// own sharing the bytes: a fused Q/K/V or gate/up weight cut into its parts, or one
    /// expert's rows of a stacked [experts, rows, columns] tensor. The range must lie within `rows`.
    public func rowSlice(_ range: Range<Int>, name: String) -> TensorData {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "row slice out of range")
        let view = UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound * rowBytes ..< range.upperBound * rowBytes])
        return TensorData(name: name, dtype: dtype, shape: [range.count, columns], bytes: view)
    }
}

/// Bytes Tern allocated for a tensor of its own (a weight's columns copied out of a mapped
/// file), freed with this object; whoever holds such a tensor holds its `TensorBytes`.
public final class TensorBytes: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer

    public init(count: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
    }

    deinit { bytes.deallocate() }
}

extension TensorData {
    /// Columns `range` of the tensor viewed as a matrix [`rows`, `columns`], copied into a
    /// contiguous matrix [rows, range.count] of the same type (a row-parallel weight's shard:
    /// the kernels take rows one after another, not a stride). A quantized type is cut between
    /// its blocks, copied whole, so the range must start and end on a multiple of
    /// `dtype.blockSize`; nil if it does not.
    public func columnSlice(_ range: Range<Int>, name: String) -> (tensor: TensorData, owner: TensorBytes)? {
        precondition(range.lowerBound >= 0 && range.upperBound <= columns, "column slice out of range")
        guard range.lowerBound % dtype.blockSize == 0, range.count % dtype.blockSize == 0 else { return nil }
        let offset = dtype.byteCount(elements: range.lowerBound)
        let sliceRowBytes = dtype.byteCount(elements: range.count)
        let owner = TensorBytes(count: rows * sliceRowBytes)
        for row in 0..<rows {
            let source = UnsafeRawBufferPointer(rebasing: bytes[row * rowBytes + offset ..< row * rowBytes + offset + sliceRowBytes])
            UnsafeMutableRawBufferPointer(rebasing: owner.bytes[row * sliceRowBytes ..< (row + 1) * sliceRowBytes])
                .copyMemory(from: source)
        }
        let view = UnsafeRawBufferPointer(rebasing: owner.bytes[0 ..< rows * sliceRowBytes])
        return (TensorData(name: name, dtype: dtype, shape: [rows, range.count], bytes: view), owner)
    }
}
