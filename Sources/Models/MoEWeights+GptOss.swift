import ModelLoading
import Tensors

extension MoEWeights {
    /// gpt-oss's expert layer as transformers stores it: `mlp.router.weight` [E, hidden] and
    /// `.bias` [E]; `mlp.experts.gate_up_proj` [E, hidden, 2·I] with gate and up interleaved
    /// in its columns (gate even, up odd) and `gate_up_proj_bias` [E, 2·I] likewise;
    /// `mlp.experts.down_proj` [E, I, hidden] and `down_proj_bias` [E, hidden].
    ///
    /// The expert matrices are stored transposed (x · W, not W · x), so the matmul kernels,
    /// which take a weight's output rows one after another, cannot view them: they are copied
    /// once at load into [E, 2·I, hidden] (each expert's gate rows, then its up rows) and
    /// [E, hidden, I], in their own type (F32, F16 or BF16: a transpose is exact there), and
    /// each expert's matrices view those copies as the other layouts' do.
    init(gptOss store: any WeightStore, config c: ModelConfig, layer: Int) throws {
        guard let moe = c.moe else {
            throw ModelConfigError(source: store.path, message: "layer \(layer) is sparse but the config has no experts")
        }
        let experts = moe.expertCount, hidden = c.hiddenSize, width = moe.expertIntermediateSize
        let source = store.path
        let p = "model.layers.\(layer).mlp"
        func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
            try LlamaWeights.floats(try store.tensor(name, shape: shape), source: source)
        }
        router = try LlamaWeights.computable(try store.tensor("\(p).router.weight", shape: [experts, hidden]), source: source)
        routerBias = try floats("\(p).router.bias", [experts])

        // Columns 0, 2, 4, ... (gate) then 1, 3, 5, ... (up) become the rows of each expert.
        let gateUpOrder = Array(stride(from: 0, to: 2 * width, by: 2)) + Array(stride(from: 1, to: 2 * width, by: 2))
        let gateUp = try Self.transposedExperts(
            try store.tensor("\(p).experts.gate_up_proj", shape: [experts, hidden, 2 * width]), columns: gateUpOrder,
            source: source)
        let down = try Self.transposedExperts(
            try store.tensor("\(p).experts.down_proj", shape: [experts, width, hidden]), columns: Array(0..<hidden),
            source: source)
        let gateUpBias = try floats("\(p).experts.gate_up_proj_bias", [experts, 2 * width])
        let downBias = try floats("\(p).experts.down_proj_bias", [experts, hidden])
        ownedBytes = [gateUp.owner, down.owner]
        self.experts = (0..<experts).map { e in
            let bias = gateUpBias[e * 2 * width ..< (e + 1) * 2 * width]
            let gateBias = stride(from: bias.startIndex, to: bias.endIndex, by: 2).map { bias[$0] }
            let upBias = stride(from: bias.startIndex + 1, to: bias.endIndex, by: 2).map { bias[$0] }
            return MLPWeights(
                gate: Linear(weight: gateUp.tensor.slice(expert: e, rows: 0..<width), bias: gateBias),
                up: Linear(weight: gateUp.tensor.slice(expert: e, rows: width..<2 * width), bias: upBias),
                down: Linear(weight: down.tensor.slice(expert: e, rows: 0..<hidden),
                             bias: Array(downBias[e * hidden ..< (e + 1) * hidden])))
        }
        sharedExpert = nil
        sharedGate = nil
    }

    /// A stacked [experts, rows, columns] tensor stored input-major, rearranged into
    /// [experts, order.count, rows]: row k of expert e is column `order[k]` of expert e.
    static func transposedExperts(_ tensor: TensorData, columns order: [Int], source: String) throws
        -> (tensor: TensorData, owner: TensorBytes)
    {
        let size: Int
        switch tensor.dtype {
        case .f32: size = 4
        case .f16, .bf16: size = 2
        default:
            throw ModelConfigError(source: source, message: "tensor '\(tensor.name)' has type \(tensor.dtype); Tern reads gpt-oss's experts in F32, F16 or BF16")
        }
        let (experts, rows, columns) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
        let owner = TensorBytes(count: experts * order.count * rows * size)
        // A mapped file need not align its tensors, so the source is read unaligned.
        func copy<Element: FixedWidthInteger>(_: Element.Type) {
            let to = owner.bytes.bindMemory(to: Element.self)
            for e in 0..<experts {
                let source = e * rows * columns, target = e * order.count * rows
                for (k, column) in order.enumerated() {
                    for r in 0..<rows {
                        to[target + k * rows + r] = tensor.bytes.loadUnaligned(
                            fromByteOffset: (source + r * columns + column) * size, as: Element.self)
                    }
                }
            }
        }
        if size == 4 { copy(UInt32.self) } else { copy(UInt16.self) }
        let view = UnsafeRawBufferPointer(rebasing: owner.bytes[0 ..< experts * order.count * rows * size])
        let result = TensorData(name: tensor.name, dtype: tensor.dtype, shape: [experts, order.count, rows], bytes: view)
        return (try LlamaWeights.computable(result, source: source), owner)
    }
}
