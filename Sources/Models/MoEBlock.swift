import CPUBackend
import CTernKernels
import Foundation
import Tensors

/// The sparse MLP of a mixture-of-experts layer on the CPU, grouped by expert.
///
/// The router scores every token (one matmul), `ExpertRouting` picks each token's top-k
/// experts and sorts the (token, choice) slots by expert; then each expert that got any
/// tokens gathers their normed rows into one contiguous block and runs its gate/up (one
/// `tern_matmul_many`), SwiGLU and down projection on that block alone, so an expert's weights
/// are read once per step however many tokens chose it. Each output row is added to its
/// token's residual scaled by the routing weight. A shared expert (Qwen2-MoE) runs on every
/// token and is added scaled by sigmoid(gate · x). gpt-oss adds a bias to the router logits
/// and to each expert's gate, up and down outputs, and activates with its clamped SwiGLU
/// (`MoEConfig.expertActivation`). Scratch buffers grow to the largest batch seen and are
/// reused across layers.
final class MoEBlock {
    let config: MoEConfig
    let hiddenSize: Int
    let pool: CPUThreadPool
    private var routing: ExpertRouting

    private let routerLogits = FloatBuffer(count: 0)  // (T, experts)
    private let gathered = FloatBuffer(count: 0)      // (T·k, hidden): the rows, grouped by expert
    private let gate = FloatBuffer(count: 0)          // (T·k, expertIntermediate), or (T, sharedIntermediate)
    private let up = FloatBuffer(count: 0)            // likewise
    private let expertOutput = FloatBuffer(count: 0)  // (T·k, hidden), or (T, hidden) for the shared expert
    private let sharedScore = FloatBuffer(count: 0)   // (T, 1)

    init(config: MoEConfig, hiddenSize: Int, pool: CPUThreadPool) {
        self.config = config
        self.hiddenSize = hiddenSize
        self.pool = pool
        routing = ExpertRouting(expertCount: config.expertCount, topK: config.expertsPerToken,
                                normalize: config.normalizeTopK)
    }

    /// residual += MoE(x) for x [tokens, hidden], the layer's normed input.
    func run(_ weights: MoEWeights, _ x: UnsafePointer<Float>, tokens: Int, residual: UnsafeMutablePointer<Float>) {
        let slots = tokens * config.expertsPerToken
        let width = max(config.expertIntermediateSize * config.expertsPerToken, config.sharedExpertIntermediateSize)
        routerLogits.reserve(tokens * config.expertCount)
        gathered.reserve(slots * hiddenSize)
        gate.reserve(tokens * width)
        up.reserve(tokens * width)
        expertOutput.reserve(max(slots, tokens) * hiddenSize)
        sharedScore.reserve(tokens)

        matmul(weights.router, x, tokens: tokens, into: routerLogits.pointer)
        if let bias = weights.routerBias { addBias(bias, routerLogits.pointer, rows: tokens) }
        routing.route(logits: routerLogits.pointer, tokens: tokens)
        let k = config.expertsPerToken
        let hidden = hiddenSize
        for (row, slot) in routing.order.enumerated() {
            (gathered.pointer + row * hidden).update(from: x + Int(slot) / k * hidden, count: hidden)
        }
        for (expert, mlp) in weights.experts.enumerated() {
            let first = routing.offsets[expert]
            let count = routing.offsets[expert + 1] - first
            guard count > 0 else { continue }
            expertMLP(mlp, gathered.pointer + first * hidden, rows: count, into: expertOutput.pointer + first * hidden)
        }
        for (row, slot) in routing.order.enumerated() {
            let token = Int(slot) / k
            tern_add_scaled(residual + token * hidden, expertOutput.pointer + row * hidden, Int64(hidden),
                            routing.weights[Int(slot)])
        }

        guard let shared = weights.sharedExpert, let sharedGate = weights.sharedGate else { return }
        expertMLP(shared, x, rows: tokens, into: expertOutput.pointer)
        matmul(sharedGate, x, tokens: tokens, into: sharedScore.pointer)
        for t in 0..<tokens {
            let score = 1 / (1 + exp(-sharedScore.pointer[t]))
            tern_add_scaled(residual + t * hidden, expertOutput.pointer + t * hidden, Int64(hidden), score)
        }
    }

    /// y [rows, hidden] = down(act(gate · x, up · x)) for x [rows, hidden], each projection
    /// plus its bias where it has one; act is SwiGLU or gpt-oss's clamped form.
    private func expertMLP(_ mlp: MLPWeights, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let width = mlp.gate.outFeatures
        if mlp.gate.weight.dtype == mlp.up.weight.dtype {
            // One pool job for both projections (tuples on the stack: this runs per expert per layer).
            var weights = (mlp.gate.weight.bytes.baseAddress, mlp.up.weight.bytes.baseAddress)
            var rowCounts = (Int64(width), Int64(mlp.up.outFeatures))
            var outputs = (Optional(gate.pointer), Optional(up.pointer))
            withUnsafePointer(to: &weights) { w in
                withUnsafePointer(to: &rowCounts) { r in
                    withUnsafePointer(to: &outputs) { ys in
                        tern_matmul_many(pool.pointer, 2, UnsafeRawPointer(w).assumingMemoryBound(to: UnsafeRawPointer?.self),
                                         UnsafeRawPointer(r).assumingMemoryBound(to: Int64.self), dtypeID(mlp.gate.weight),
                                         Int64(mlp.gate.inFeatures), x, Int64(rows),
                                         UnsafeRawPointer(ys).assumingMemoryBound(to: UnsafeMutablePointer<Float>?.self), 0)
                    }
                }
            }
        } else {
            matmul(mlp.gate.weight, x, tokens: rows, into: gate.pointer)
            matmul(mlp.up.weight, x, tokens: rows, into: up.pointer)
        }
        if let bias = mlp.gate.bias { addBias(bias, gate.pointer, rows: rows) }
        if let bias = mlp.up.bias { addBias(bias, up.pointer, rows: rows) }
        switch config.expertActivation {
        case .silu:
            tern_silu_mul(gate.pointer, up.pointer, Int64(rows * width))
        case .clampedSwiGLU(let alpha, let limit):
            tern_clamped_swiglu_mul(gate.pointer, up.pointer, Int64(rows * width), alpha, limit)
        }
        matmul(mlp.down.weight, gate.pointer, tokens: rows, into: y)
        if let bias = mlp.down.bias { addBias(bias, y, rows: rows) }
    }

    /// y [rows, bias.count] += bias in every row.
    private func addBias(_ bias: [Float], _ y: UnsafeMutablePointer<Float>, rows: Int) {
        bias.withUnsafeBufferPointer { b in
            for row in 0..<rows { tern_add(y + row * bias.count, b.baseAddress, Int64(bias.count)) }
        }
    }

    private func dtypeID(_ tensor: TensorData) -> Int32 { Int32(tensor.dtype.rawValue) }

    private func matmul(_ weight: TensorData, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>) {
        tern_matmul(pool.pointer, weight.bytes.baseAddress, dtypeID(weight), Int64(weight.shape[0]),
                    Int64(weight.shape[1]), x, Int64(tokens), y, 0)
    }
}
