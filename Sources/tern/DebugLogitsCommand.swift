import ArgumentParser
import Engine
import Foundation
import Models

/// `tern debug logits`: teacher-forced logits of three sequences, computed through the
/// ragged batches a serving engine makes, for comparison with a reference
/// (scripts/gpu/check.py compares them with HF transformers).
///
/// Sequences A, B, C (one line of token ids each in `--tokens`) run in three steps that mix
/// every kind of work in one batch:
///   1. A's prompt but its last token (prefill);
///   2. B after the full blocks it shares with A (a prefix-cache hit: it reads A's pages),
///      together with the first half of C (a chunk);
///   3. the rest of C but its last token (the next chunk) together with A's last token (a decode);
///   4. C's last token alone (a batch-1 decode, which takes the GPU's matrix-vector path).
/// Output: float32 little-endian [A + B + C tokens, vocab]; rows of B's shared prefix, which
/// are never computed, are NaN.
struct DebugLogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "Write teacher-forced logits of three sequences (A, B, C).")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Text file: three lines of space-separated token ids (A, B, C).")
    var tokens: String

    @Option(help: "Where to write the logits (float32, [tokens, vocab]).")
    var out: String

    func run() throws {
        let text = try String(contentsOfFile: tokens, encoding: .utf8)
        let sequences = text.split(whereSeparator: \.isNewline).map { line in
            line.split(separator: " ").compactMap { Int32($0) }
        }
        guard sequences.count == 3, sequences.allSatisfy({ $0.count >= 2 }) else {
            throw ValidationError("--tokens must hold three lines of at least two token ids each")
        }
        let logger = modelOptions.makeLogger()
        let model = try modelOptions.load(logger: logger)
        let executor = model.executor
        let vocabulary = model.config.vocabularySize
        if let bad = sequences.joined().first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw ValidationError("token id \(bad) is outside the vocabulary (0..<\(vocabulary))")
        }
        let (a, b, c) = (sequences[0], sequences[1], sequences[2])
        let blockSize = executor.blockSize

        // Pages: A's, then B's (its first `sharedBlocks` are A's), then C's.
        var nextBlock: Int32 = 1
        func pages(_ count: Int) -> [Int32] {
            defer { nextBlock += Int32(count) }
            return (0..<count).map { nextBlock + Int32($0) }
        }
        func blocksFor(_ length: Int) -> Int { (length + blockSize - 1) / blockSize }
        let common = zip(a, b).prefix { $0 == $1 }.count
        let sharedBlocks = min(common, b.count - 1) / blockSize
        let aPages = pages(blocksFor(a.count))
        let bPages = Array(aPages.prefix(sharedBlocks)) + pages(blocksFor(b.count) - sharedBlocks)
        let cPages = pages(blocksFor(c.count))
        guard Int(nextBlock) <= executor.blockCount else {
            throw ValidationError("the sequences need \(nextBlock - 1) KV blocks; the cache has \(executor.blockCount - 1)")
        }
        let sharedTokens = sharedBlocks * blockSize
        let cSplit = c.count / 2

        var output = [Float](repeating: .nan, count: (a.count + b.count + c.count) * vocabulary)
        struct Part { let sequence: [Int32]; let range: Range<Int>; let pages: [Int32]; let outputRow: Int }
        func step(_ parts: [Part]) throws {
            var batch = ForwardBatch()
            batch.reset(maxBlocksPerSequence: parts.map(\.pages.count).max() ?? 0)
            var rows: [Int] = []
            for part in parts {
                // Every token of the part wants logits: teacher forcing.
                for (offset, index) in part.range.enumerated() {
                    batch.logitsIndices.append(Int32(batch.tokenCount + offset))
                    rows.append(part.outputRow + index)
                }
                let saved = batch.logitsIndices
                batch.append(tokens: part.sequence[part.range], start: part.range.lowerBound,
                             blocks: part.pages.prefix(blocksFor(part.range.upperBound)), blockSize: blockSize,
                             wantsLogits: false)
                batch.logitsIndices = saved
            }
            let logits = try executor.execute(batch)
            for (row, destination) in rows.enumerated() {
                for v in 0..<vocabulary { output[destination * vocabulary + v] = logits[row * vocabulary + v] }
            }
        }
        let bRow = a.count
        let cRow = a.count + b.count
        try step([Part(sequence: a, range: 0..<(a.count - 1), pages: aPages, outputRow: 0)])
        try step([Part(sequence: b, range: sharedTokens..<b.count, pages: bPages, outputRow: bRow),
                  Part(sequence: c, range: 0..<cSplit, pages: cPages, outputRow: cRow)])
        try step([Part(sequence: c, range: cSplit..<(c.count - 1), pages: cPages, outputRow: cRow),
                  Part(sequence: a, range: (a.count - 1)..<a.count, pages: aPages, outputRow: 0)])
        try step([Part(sequence: c, range: (c.count - 1)..<c.count, pages: cPages, outputRow: cRow)])
        try output.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: out)) }
        FileHandle.standardError.write(Data("wrote \(output.count / vocabulary) rows of \(vocabulary) logits to \(out) (B shares \(sharedTokens) cached tokens with A; C in chunks of \(cSplit), \(c.count - cSplit - 1) and 1)\n".utf8))
    }
}
