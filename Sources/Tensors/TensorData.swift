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
