@testable import EngineCore

/// A stand-in model that keeps a paged "KV cache" of token ids.
///
/// Each step writes the fed tokens into their slots through the block table, then, for each
/// request that samples, reads its whole context back through the block table and returns
/// `model(context)`. Wrong positions, block tables or prefix-cache hits make the context read
/// back differ from the request's real tokens, which the runner reports, and make the generated
/// tokens differ from `referenceGeneration`.
final class PagedTokenRunner {
    let blockSize: Int
    let model: ([Int32]) -> Int32
    /// Token id written in each slot (block * blockSize + offset); nil if never written.
    private var slots: [Int32?]
    /// Contexts read back in the last step, by request id.
    private(set) var lastContexts: [String: [Int32]] = [:]

    init(blockSize: Int, numBlocks: Int, model: @escaping ([Int32]) -> Int32 = FakeModel.hashing) {
        self.blockSize = blockSize
        self.model = model
        slots = Array(repeating: nil, count: blockSize * numBlocks)
    }

    /// Runs one step; returns the sampled token of each request that samples. A request that
    /// fed drafts is verified greedily: the model's token after its last known token and after
    /// each draft, kept up to and including the first that differs from the draft it follows.
    func execute(_ output: SchedulerOutput) -> [String: [Int32]] {
        // All writes first, as in one forward pass where each layer writes K/V before attention.
        for item in output.requests {
            for (offset, token) in output.tokenIDs(of: item).enumerated() {
                slots[slot(item.startPosition + offset, in: item.blockTable)] = token
            }
        }
        lastContexts.removeAll()
        var sampled: [String: [Int32]] = [:]
        for item in output.requests {
            var context: [Int32] = []
            context.reserveCapacity(item.seqLen)
            for position in 0 ..< item.seqLen {
                // An unwritten slot reads as -1, which never matches a real token.
                context.append(slots[slot(position, in: item.blockTable)] ?? -1)
            }
            lastContexts[item.requestID] = context
            guard item.samples else { continue }
            let drafts = item.draftTokenIDs
            var tokens: [Int32] = []
            for index in 0 ... drafts.count {
                let token = model(Array(context[0 ..< context.count - drafts.count + index]))
                tokens.append(token)
                if index == drafts.count || token != drafts[index] { break }
            }
            sampled[item.requestID] = tokens
        }
        return sampled
    }

    private func slot(_ position: Int, in blockTable: [Int32]) -> Int {
        Int(blockTable[position / blockSize]) * blockSize + position % blockSize
    }
}

/// Deterministic next-token functions of the whole token history.
enum FakeModel {
    static let vocabularySize: Int32 = 64
    static let eos: Int32 = 0

    /// FNV-1a of the history, reduced to the vocabulary: EOS comes about once in 64 tokens.
    static func hashing(_ history: [Int32]) -> Int32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for token in history {
            hash = (hash ^ UInt64(UInt32(bitPattern: token))) &* 0x0000_0100_0000_01B3
        }
        return Int32(truncatingIfNeeded: (hash >> 17) % UInt64(vocabularySize))
    }

    /// Never EOS: a counter of the history's length, kept away from token 0.
    static func counting(_ history: [Int32]) -> Int32 {
        Int32(history.count % 50 + 1)
    }
}

/// What one request generates when run alone, without a scheduler: the reference outputs.
/// Stop rules as specified for the scheduler: EOS (unless ignoreEOS) or a stop token id once
/// minTokens are out; else maxTokens or maxModelLen.
func referenceGeneration(
    prompt: [Int32], params: SamplingParams, eos: Set<Int32>, maxModelLen: Int,
    model: ([Int32]) -> Int32 = FakeModel.hashing
) -> (tokens: [Int32], reason: FinishReason) {
    var history = prompt
    var output: [Int32] = []
    while true {
        let token = model(history)
        history.append(token)
        output.append(token)
        if output.count >= params.minTokens {
            if !params.ignoreEOS && eos.contains(token) { return (output, .stop) }
            if params.stopTokenIDs.contains(token) { return (output, .stop) }
        }
        if history.count >= maxModelLen { return (output, .length) }
        if let maxTokens = params.maxTokens, output.count >= maxTokens { return (output, .length) }
    }
}
