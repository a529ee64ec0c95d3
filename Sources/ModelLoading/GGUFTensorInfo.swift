import Tensors

/// One tensor's entry in a GGUF file's tensor-info table.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The GGUF name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Dimensions as stored, fastest-varying first: an HF linear weight `[out, in]` is stored
    /// as `[in, out]`. One to four entries.
    public let dims: [Int]
    public let dtype: DType
    /// Byte offset of the tensor's data from the start of the data section (a multiple of
    /// the file's alignment).
    public let offset: Int

    public init(name: String, dims: [Int], dtype: DType, offset: Int) {
        self.name = name
        self.dims = dims
        self.dtype = dtype
        self.offset = offset
    }

    /// The shape outermost first (HF order): `dims` reversed.
    public var shape: [Int] { dims.reversed() }

    /// Number of values.
    public var elementCount: Int { dims.reduce(1, *) }

    /// Bytes of data: `elementCount / dtype.blockSize * dtype.blockBytes`.
    public var byteCount: Int { dtype.byteCount(elements: elementCount) }
}
