/// Limits of one scheduler: batch size, token budget per step, context length and KV pool.
public struct SchedulerConfig: Sendable, Equatable {
    /// Most requests running at once (holding KV blocks).
    public var maxNumSeqs: Int
    /// Most tokens fed to the model in one step, over all requests.
    public var maxNumBatchedTokens: Int
    /// Most tokens (prompt plus output) in one sequence.
    public var maxModelLen: Int
    /// Tokens per KV block.
    public var blockSize: Int
    /// KV blocks in the pool, counting the reserved null block 0.
    public var numBlocks: Int
    public var enablePrefixCaching: Bool
    /// When set, a prompt gets at most this many tokens per step, so that one long prompt does
    /// not take a whole step's budget from the others (vLLM's `long_prefill_token_threshold`).
    public var longPrefillTokenThreshold: Int?

    public init(
        maxNumSeqs: Int = 256,
        maxNumBatchedTokens: Int = 8192,
        maxModelLen: Int,
        blockSize: Int = 16,
        numBlocks: Int,
        enablePrefixCaching: Bool = true,
        longPrefillTokenThreshold: Int? = nil
    ) {
        self.maxNumSeqs = maxNumSeqs
        self.maxNumBatchedTokens = maxNumBatchedTokens
        self.maxModelLen = maxModelLen
        self.blockSize = blockSize
        self.numBlocks = numBlocks
        self.enablePrefixCaching = enablePrefixCaching
        self.longPrefillTokenThreshold = longPrefillTokenThreshold
    }

    /// Tokens the pool holds: every block but the null block.
    public var numCacheTokens: Int { (numBlocks - 1) * blockSize }

    /// Checks the limits, including that one sequence of `maxModelLen` tokens fits in the pool
    /// (otherwise such a request could never finish).
    public func validate() throws {
        func fail(_ message: String) -> SchedulerError { .invalidConfiguration(message) }
        guard maxNumSeqs >= 1 else { throw fail("maxNumSeqs must be >= 1, got \(maxNumSeqs)") }
        guard maxNumBatchedTokens >= 1 else {
            throw fail("maxNumBatchedTokens must be >= 1, got \(maxNumBatchedTokens)")
        }
        guard maxModelLen >= 1 else { throw fail("maxModelLen must be >= 1, got \(maxModelLen)") }
        guard blockSize >= 1 else { throw fail("blockSize must be >= 1, got \(blockSize)") }
        guard numBlocks >= 2 else {
            throw fail("numBlocks must be >= 2 (block 0 is reserved), got \(numBlocks)")
        }
        if let threshold = longPrefillTokenThreshold, threshold < 1 {
            throw fail("longPrefillTokenThreshold must be >= 1, got \(threshold)")
        }
        guard maxModelLen <= numCacheTokens else {
            throw fail(
                "maxModelLen \(maxModelLen) does not fit in the KV cache: \(numBlocks - 1) blocks of "
                    + "\(blockSize) tokens hold \(numCacheTokens) tokens; lower maxModelLen or add blocks")
        }
    }
}
