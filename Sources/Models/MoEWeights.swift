import ModelLoading
import Tensors

/// The router and experts of one sparse (mixture-of-experts) layer.
///
/// The experts are a list of ordinary `MLPWeights`, one per expert, in expert order. Where the
/// file stacks all experts in one tensor ([experts, rows, columns]: GGUF's `ffn_*_exps`,
/// transformers 5's fused `gate_up_proj`), each expert's matrices are views of its contiguous
/// byte range, so no weight is copied; a later expert-parallel shard can keep only the
/// experts it owns.
public struct MoEWeights: Sendable {
    /// [experts, hidden]: router logits = router · x.
    public let router: TensorData
    public let experts: [MLPWeights]
    /// The expert every token goes through (Qwen2-MoE), scaled by sigmoid(sharedGate · x).
    public let sharedExpert: MLPWeights?
    /// [1, hidden]
    public let sharedGate: TensorData?
    /// [experts]: added to the router logits (gpt-oss), else nil.
    public var routerBias: [Float]? = nil
    /// The bytes of expert matrices Tern rearranged at load (gpt-oss's transposed, interleaved
    /// experts), which `experts` view; empty where the experts are views of the mapped file.
    public var ownedBytes: [TensorBytes] = []

    /// Finds layer `layer`'s expert tensors in whichever layout the store has: HF per-expert
    /// tensors (Mixtral's `block_sparse_moe.experts.E.w1/w3/w2`, Qwen's
    /// `mlp.experts.E.gate_proj/up_proj/down_proj`), HF stacked tensors
    /// (`mlp.experts.gate_up_proj` [E, 2·I, H] and `mlp.experts.down_proj` [E, H, I]), or GGUF's
    /// `blk.N.ffn_gate_exps/ffn_up_exps/ffn_down_exps` [E, I, H] / [E, H, I].
    init(store: any WeightStore, config c: ModelConfig, layer: Int, naming: WeightNaming) throws {
        guard let moe = c.moe else {
            throw ModelConfigError(source: store.path, message: "layer \(layer) is sparse but the config has no experts")
        }
        let hidden = c.hiddenSize
        let width = moe.expertIntermediateSize
        let source = store.path
        if c.family == .gptOss {
            self = try MoEWeights(gptOss: store, config: c, layer: layer)
            return
        }
        func matrix(_ name: String, _ shape: [Int]) throws -> TensorData {
            try LlamaWeights.computable(try store.tensor(name, shape: shape), source: source)
        }
        func mlp(gate: TensorData, up: TensorData, down: TensorData) -> MLPWeights {
            MLPWeights(gate: Linear(weight: gate, bias: nil), up: Linear(weight: up, bias: nil),
                       down: Linear(weight: down, bias: nil))
        }

        if naming == .gguf {
            let p = "blk.\(layer)"
            router = try matrix("\(p).ffn_gate_inp.weight", [moe.expertCount, hidden])
            let gates = try matrix("\(p).ffn_gate_exps.weight", [moe.expertCount, width, hidden])
            let ups = try matrix("\(p).ffn_up_exps.weight", [moe.expertCount, width, hidden])
            let downs = try matrix("\(p).ffn_down_exps.weight", [moe.expertCount, hidden, width])
            experts = (0..<moe.expertCount).map { e in
                mlp(gate: gates.slice(expert: e, rows: 0..<width), up: ups.slice(expert: e, rows: 0..<width),
                    down: downs.slice(expert: e, rows: 0..<hidden))
            }
            if moe.sharedExpertIntermediateSize > 0 {
                let shared = moe.sharedExpertIntermediateSize
                sharedExpert = mlp(gate: try matrix("\(p).ffn_gate_shexp.weight", [shared, hidden]),
                                   up: try matrix("\(p).ffn_up_shexp.weight", [shared, hidden]),
                                   down: try matrix("\(p).ffn_down_shexp.weight", [hidden, shared]))
                let gate = try store.tensor("\(p).ffn_gate_inp_shexp.weight")
                guard gate.elementCount == hidden else {
                    throw ModelLoadError(path: source, kind: .wrongShape,
                                         "tensor '\(gate.name)' has shape \(gate.shape) but [\(hidden)] was expected")
                }
                sharedGate = try LlamaWeights.computable(
                    TensorData(name: gate.name, dtype: gate.dtype, shape: [1, hidden], bytes: gate.bytes), source: source)
            } else {
                sharedExpert = nil
                sharedGate = nil
            }
            return
        }

        // Mixtral's HF block is `block_sparse_moe` with w1 (gate), w3 (up), w2 (down);
        // transformers 5 renames it `mlp` with Qwen's names.
        let mixtralPrefix = "model.layers.\(layer).block_sparse_moe"
        let usesMixtralNames = c.family == .mixtral && store.contains("\(mixtralPrefix).gate.weight")
        let p = usesMixtralNames ? mixtralPrefix : "model.layers.\(layer).mlp"
        router = try matrix("\(p).gate.weight", [moe.expertCount, hidden])
        if store.contains("\(p).experts.gate_up_proj") {
            let gateUp = try matrix("\(p).experts.gate_up_proj", [moe.expertCount, 2 * width, hidden])
            let downs = try matrix("\(p).experts.down_proj", [moe.expertCount, hidden, width])
            experts = (0..<moe.expertCount).map { e in
                mlp(gate: gateUp.slice(expert: e, rows: 0..<width), up: gateUp.slice(expert: e, rows: width..<2 * width),
                    down: downs.slice(expert: e, rows: 0..<hidden))
            }
        } else {
            let names = usesMixtralNames ? ("w1", "w3", "w2") : ("gate_proj", "up_proj", "down_proj")
            experts = try (0..<moe.expertCount).map { e in
                let q = "\(p).experts.\(e)"
                return mlp(gate: try matrix("\(q).\(names.0).weight", [width, hidden]),
                           up: try matrix("\(q).\(names.1).weight", [width, hidden]),
                           down: try matrix("\(q).\(names.2).weight", [hidden, width]))
            }
        }
        if moe.sharedExpertIntermediateSize > 0 {
            let shared = moe.sharedExpertIntermediateSize
            let q = "\(p).shared_expert"
            sharedExpert = mlp(gate: try matrix("\(q).gate_proj.weight", [shared, hidden]),
                               up: try matrix("\(q).up_proj.weight", [shared, hidden]),
                               down: try matrix("\(q).down_proj.weight", [hidden, shared]))
            sharedGate = try matrix("\(p).shared_expert_gate.weight", [1, hidden])
        } else {
            sharedExpert = nil
            sharedGate = nil
        }
    }
}

extension TensorData {
    /// Rows `rows` of expert `expert` of a stacked [experts, rowsPerExpert, columns] tensor,
    /// as a [rows.count, columns] matrix viewing the same bytes.
    func slice(expert: Int, rows: Range<Int>) -> TensorData {
        let first = expert * shape[1]
        return rowSlice(first + rows.lowerBound ..< first + rows.upperBound, name: "\(name)[\(expert)]")
    }
}
