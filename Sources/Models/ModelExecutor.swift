/// A model bound to a backend and its KV cache: runs one `ForwardBatch` per step.
/// Backends implement this for the Llama family (the CPU one is `LlamaCPUModel`).
public protocol ModelExecutor: AnyObject {
    var config: ModelConfig { get }
    /// Tokens per KV page.
    var blockSize: Int { get }
    /// Pages in the KV pool, the null block 0 included.
    var blockCount: Int { get }
    /// Runs the batch, writing its K/V into the pages its slot mapping names, and returns
    /// the logits [batch.logitsIndices.count, vocabularySize], valid until the next call.
    func execute(_ batch: ForwardBatch) throws -> UnsafeBufferPointer<Float>
    /// Most logits rows one batch may ask for (`logitsIndices.count`).
    var maxLogitsRows: Int { get }
}

extension ModelExecutor {
    public var maxLogitsRows: Int { Int(Int32.max) }
}

/// A model that can give its final hidden states (after the final norm) instead of logits:
/// what an embedding or pooling request reads.
public protocol HiddenStatesExecutor: ModelExecutor {
    /// Runs the batch (writing its K/V like `execute`) and returns the final-normed hidden
    /// state of every token, [batch.tokenCount, hiddenSize], valid until the next call.
    func executeHiddenStates(_ batch: ForwardBatch) throws -> UnsafeBufferPointer<Float>
}
