import Foundation
import Models

/// How a sequence's hidden states become one vector (vLLM's pooling types).
public enum PoolingType: String, Sendable, CaseIterable {
    /// The last token's state: what a causal model has read the whole input by (vLLM's default
    /// for decoder models).
    case last
    /// The mean over every token.
    case mean
    /// The first token's state.
    case cls
}

/// vLLM's pooling runner for a model served as an embedder (`tern serve --runner pooling`):
/// prompts run through the model in batches that fit its KV cache, and each sequence's final
/// hidden states are pooled (and L2-normalised unless asked not to). It owns the model's KV
/// cache while it runs, so a server in this mode generates nothing. Calls are serialised.
public final class Embedder: @unchecked Sendable {
    public let model: any HiddenStatesExecutor
    public let pooling: PoolingType
    public let normalize: Bool
    public let maxModelLen: Int
    private let lock = NSLock()
    private var batch = ForwardBatch()

    public init(model: any HiddenStatesExecutor, pooling: PoolingType = .last, normalize: Bool = true, maxModelLen: Int) {
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.maxModelLen = maxModelLen
    }

    /// The model of `loaded` as an embedder; throws when its backend has no hidden-states path.
    public convenience init(_ loaded: LoadedModel, pooling: PoolingType = .last, normalize: Bool = true) throws {
        guard let model = loaded.executor as? any HiddenStatesExecutor else {
            throw EngineError("the pooling runner needs the CPU backend (--device cpu): this backend returns logits only")
        }
        self.init(model: model, pooling: pooling, normalize: normalize, maxModelLen: loaded.maxModelLen)
    }

    /// One vector [hiddenSize] per prompt, in order. Each prompt must be non-empty and at most
    /// `maxModelLen` tokens.
    public func embed(_ prompts: [[Int32]]) throws -> [[Float]] {
        lock.lock()
        defer { lock.unlock() }
        let blockSize = model.blockSize
        // Block 0 is the null block; the rest take a batch's prompts one after another.
        let available = model.blockCount - 1
        var vectors: [[Float]] = []
        var start = 0
        while start < prompts.count {
            var end = start
            var blocks = 0
            var widest = 0
            while end < prompts.count {
                let needed = (prompts[end].count + blockSize - 1) / blockSize
                guard needed <= available else {
                    throw EngineError("a prompt of \(prompts[end].count) tokens does not fit the KV cache (\(available * blockSize) tokens)")
                }
                if blocks + needed > available { break }
                blocks += needed
                widest = max(widest, needed)
                end += 1
            }
            vectors += try run(prompts[start..<end], maxBlocks: widest)
            start = end
        }
        return vectors
    }

    private func run(_ prompts: ArraySlice<[Int32]>, maxBlocks: Int) throws -> [[Float]] {
        let blockSize = model.blockSize
        batch.reset(maxBlocksPerSequence: maxBlocks)
        var next: Int32 = 1
        for prompt in prompts {
            let count = (prompt.count + blockSize - 1) / blockSize
            batch.append(tokens: prompt, start: 0, blocks: (next ..< next + Int32(count)), blockSize: blockSize,
                         wantsLogits: false)
            next += Int32(count)
        }
        let states = try model.executeHiddenStates(batch)
        let hidden = model.config.hiddenSize
        return (0..<prompts.count).map { sequence in
            let first = Int(batch.queryStartLocations[sequence]), end = Int(batch.queryStartLocations[sequence + 1])
            var vector = [Float](repeating: 0, count: hidden)
            switch pooling {
            case .last:
                for i in 0..<hidden { vector[i] = states[(end - 1) * hidden + i] }
            case .cls:
                for i in 0..<hidden { vector[i] = states[first * hidden + i] }
            case .mean:
                for row in first..<end { for i in 0..<hidden { vector[i] += states[row * hidden + i] } }
                let scale = 1 / Float(end - first)
                for i in 0..<hidden { vector[i] *= scale }
            }
            if normalize {
                let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                if norm > 0 { for i in 0..<hidden { vector[i] /= norm } }
            }
            return vector
        }
    }
}
