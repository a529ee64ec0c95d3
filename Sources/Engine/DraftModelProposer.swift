import EngineCore
import Models

/// Drafts from a smaller model with the target's vocabulary (vLLM's `draft_model` method):
/// k greedy tokens a request, one batched forward pass of the draft model per draft position.
///
/// The draft model keeps its own KV pages, with its own block tables over its own pool, so it
/// needs nothing from the target's scheduler: each request's state is the token sequence whose
/// K/V its pages hold. Before drafting, that sequence is cut to where it still agrees with the
/// request's tokens (the drafts the target rejected are dropped; accepted ones are kept), the
/// missing tokens are fed in chunks (a new request's prompt, the token that followed the last
/// verification), and the last token's logits give the first draft. Greedy drafts are
/// deterministic proposals, which `Sampler.verify`'s rejection sampling takes as they are, so
/// sampled outputs keep the target's distribution too. A request the pool has no room for gets
/// no drafts that step.
final class DraftModelProposer {
    let model: any ModelExecutor
    /// Tokens one forward pass of the draft model may feed.
    let maxBatchTokens: Int
    private var freeBlocks: [Int32]
    private var states: [String: State] = [:]
    private var batch = ForwardBatch()

    private struct State {
        var blocks: [Int32] = []
        /// Tokens whose K/V are in `blocks`, in order.
        var sequence: [Int32] = []
    }

    init(model: any ModelExecutor, maxBatchTokens: Int) {
        self.model = model
        self.maxBatchTokens = max(1, maxBatchTokens)
        // Block 0 stays the null block that pads block tables.
        freeBlocks = (1 ..< Int32(model.blockCount)).reversed()
    }

    /// Drafts `count` tokens for each request (its tokens so far, all known).
    func propose(_ requests: [(request: Request, count: Int)]) throws -> [String: [Int32]] {
        var work: [(id: String, tokens: [Int32], count: Int)] = []
        for (request, count) in requests where count > 0 {
            let tokens = request.allTokenIDs
            guard reserve(request.requestID, tokens: tokens, count: count) else { continue }
            work.append((request.requestID, tokens, count))
        }
        guard !work.isEmpty else { return [:] }
        try catchUp(work.map { ($0.id, $0.tokens) })

        // Round j feeds each request's latest token (its last known one, then its drafts) at
        // its position and takes the argmax after it.
        var drafts: [String: [Int32]] = [:]
        var round = 0
        while true {
            let active = work.filter { $0.count > round }
            guard !active.isEmpty else { break }
            let maxBlocks = active.lazy.map { self.states[$0.id]!.blocks.count }.max() ?? 0
            batch.reset(maxBlocksPerSequence: maxBlocks)
            let fed = active.map { round == 0 ? $0.tokens[$0.tokens.count - 1] : drafts[$0.id]![round - 1] }
            for (item, token) in zip(active, fed) {
                batch.append(tokens: CollectionOfOne(token), start: item.tokens.count - 1 + round,
                             blocks: states[item.id]!.blocks, blockSize: model.blockSize, wantsLogits: true)
            }
            let next = try greedy(batch)
            for (index, item) in active.enumerated() {
                states[item.id]!.sequence.append(fed[index])
                drafts[item.id, default: []].append(next[index])
            }
            round += 1
        }
        return drafts
    }

    /// Frees a request's pages (finished, aborted).
    func forget(_ requestID: String) {
        guard let state = states.removeValue(forKey: requestID) else { return }
        freeBlocks.append(contentsOf: state.blocks.reversed())
    }

    /// Cuts the request's draft sequence to what still agrees with `tokens`, and makes room for
    /// `tokens` and `count` - 1 drafts after them (the last draft is never fed). False when the
    /// pool cannot hold them.
    private func reserve(_ id: String, tokens: [Int32], count: Int) -> Bool {
        var state = states[id] ?? State()
        var valid = 0
        let limit = min(state.sequence.count, tokens.count - 1)
        while valid < limit && state.sequence[valid] == tokens[valid] { valid += 1 }
        state.sequence.removeLast(state.sequence.count - valid)
        let needed = (tokens.count + count - 1 + model.blockSize - 1) / model.blockSize
        let missing = needed - state.blocks.count
        guard missing <= freeBlocks.count else {
            states[id] = state
            return false
        }
        if missing > 0 { state.blocks += freeBlocks.suffix(missing).reversed(); freeBlocks.removeLast(missing) }
        states[id] = state
        return true
    }

    /// Feeds each request's tokens its pages lack, all but the last, within the batch limit.
    private func catchUp(_ requests: [(id: String, tokens: [Int32])]) throws {
        var pending = requests.filter { states[$0.id]!.sequence.count < $0.tokens.count - 1 }
        while !pending.isEmpty {
            var budget = maxBatchTokens
            let maxBlocks = pending.lazy.map { self.states[$0.id]!.blocks.count }.max() ?? 0
            batch.reset(maxBlocksPerSequence: maxBlocks)
            var fed: [(id: String, range: Range<Int>)] = []
            for item in pending where budget > 0 {
                let start = states[item.id]!.sequence.count
                let end = min(item.tokens.count - 1, start + budget)
                batch.append(tokens: item.tokens[start ..< end], start: start, blocks: states[item.id]!.blocks,
                             blockSize: model.blockSize, wantsLogits: false)
                fed.append((item.id, start ..< end))
                budget -= end - start
            }
            _ = try model.execute(batch)
            for (id, range) in fed {
                let tokens = requests.first { $0.id == id }!.tokens
                states[id]!.sequence += tokens[range]
            }
            pending = pending.filter { states[$0.id]!.sequence.count < $0.tokens.count - 1 }
        }
    }

    /// The argmax of each logits row of `batch`.
    private func greedy(_ batch: ForwardBatch) throws -> [Int32] {
        if let device = model as? any DeviceSampling {
            let rows = [DeviceSamplingRow](repeating: DeviceSamplingRow(temperature: 0, key: 0),
                                           count: batch.logitsIndices.count)
            return Array(try device.executeSampling(batch, rows: rows, adjustments: []))
        }
        let logits = try model.execute(batch)
        let vocabulary = model.config.vocabularySize
        return (0 ..< batch.logitsIndices.count).map { row in
            var best = 0
            var bestValue = -Float.infinity
            for token in 0 ..< vocabulary where logits[row * vocabulary + token] > bestValue {
                best = token
                bestValue = logits[row * vocabulary + token]
            }
            return Int32(best)
        }
    }
}
