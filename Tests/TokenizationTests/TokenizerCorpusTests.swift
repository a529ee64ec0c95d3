import Testing
import Tokenization

/// Every tokenizer against HF's ids and decodes of the whole corpus (347 strings: English, code,
/// numbers, whitespace runs, emoji, CJK and other scripts, composed and decomposed accents,
/// special tokens inside text, the empty string, very long words).
@Suite("HF parity on the corpus")
struct TokenizerCorpusTests {
    @Test("ids equal HF's", arguments: Fixtures.jsonTokenizerNames)
    func ids(_ name: String) throws {
        try expectParity(try Fixtures.tokenizer(name), Fixtures.expected(name), name)
    }

    @Test("a Llama-style SentencePiece GGUF (scores, no merges): ids and decodes equal HF's")
    func sentencePieceGGUF() throws {
        try expectParity(try Fixtures.tinySPMGGUF.get(), Fixtures.expected("tiny_spm_gguf"), "tiny_spm_gguf")
    }

    @Test("Gemma 3 from its GGUF: ids and decodes equal HF's",
          .enabled(if: Fixtures.gemmaGGUFPath != nil, "Gemma 3 GGUF not found (~/.cache/tern or TERN_GEMMA_GGUF)"))
    func gemma() throws {
        try expectParity(try Fixtures.gemmaGGUF.get(), Fixtures.expected("gemma3"), "gemma3")
    }
}

/// Checks `encode`, `decode` and `decode(skipSpecialTokens:)` on every corpus string, reporting
/// the first few mismatches of each.
func expectParity(_ tokenizer: Tokenizer, _ expected: Fixtures.Expected, _ name: String) throws {
    var idMismatches: [String] = []
    var decodeMismatches: [String] = []
    for (index, text) in Fixtures.corpus.enumerated() {
        let ids = tokenizer.encode(text)
        if ids != expected.ids[index] {
            idMismatches.append("\(text.debugDescription): \(ids) != HF \(expected.ids[index])")
        }
        let decoded = tokenizer.decode(expected.ids[index])
        let skipped = tokenizer.decode(expected.ids[index], skipSpecialTokens: true)
        if decoded != expected.decoded[index] || skipped != expected.decodedSkipSpecial[index] {
            decodeMismatches.append(
                "\(expected.ids[index]): \(decoded.debugDescription) / \(skipped.debugDescription) != HF "
                    + "\(expected.decoded[index].debugDescription) / \(expected.decodedSkipSpecial[index].debugDescription)")
        }
    }
    #expect(idMismatches.isEmpty, "\(name): \(idMismatches.count) strings differ, e.g.\n\(idMismatches.prefix(8).joined(separator: "\n"))")
    #expect(decodeMismatches.isEmpty, "\(name): \(decodeMismatches.count) decodes differ, e.g.\n\(decodeMismatches.prefix(8).joined(separator: "\n"))")
}
