import Testing
import Tokenization

/// The incremental detokenizer against the full decode, over HF's ids for the whole corpus.
@Suite("Incremental detokenizer")
struct IncrementalDetokenizerTests {
    static let names = Fixtures.jsonTokenizerNames

    @Test("fed one id at a time, the deltas concatenate to decode(), with no broken characters",
          arguments: names, [false, true])
    func oneAtATime(_ name: String, skipSpecialTokens: Bool) throws {
        try checkStreaming(try Fixtures.tokenizer(name), Fixtures.expected(name), name, chunk: 1, skipSpecialTokens)
    }

    @Test("fed three ids at a time", arguments: names)
    func severalAtATime(_ name: String) throws {
        try checkStreaming(try Fixtures.tokenizer(name), Fixtures.expected(name), name, chunk: 3, false)
    }

    @Test("a Llama-style SentencePiece GGUF, one id at a time", arguments: [false, true])
    func sentencePieceGGUF(skipSpecialTokens: Bool) throws {
        try checkStreaming(
            try Fixtures.tinySPMGGUF.get(), Fixtures.expected("tiny_spm_gguf"), "tiny_spm_gguf", chunk: 1, skipSpecialTokens)
    }

    @Test("Gemma 3 from its GGUF, one id at a time",
          .enabled(if: Fixtures.gemmaGGUFPath != nil, "Gemma 3 GGUF not found (~/.cache/tern or TERN_GEMMA_GGUF)"))
    func gemma() throws {
        try checkStreaming(try Fixtures.gemmaGGUF.get(), Fixtures.expected("gemma3"), "gemma3", chunk: 1, true)
    }

    @Test("after a prompt, the deltas are the text that follows the prompt's text", arguments: names)
    func afterPrompt(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        var mismatches: [String] = []
        for ids in Fixtures.expected(name).ids where ids.count >= 4 {
            let prompt = Array(ids[..<(ids.count / 2)])
            let promptText = tokenizer.decode(prompt)
            guard !promptText.unicodeScalars.contains("\u{FFFD}") else { continue }
            var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, promptIDs: prompt)
            var text = ids[(ids.count / 2)...].map { detokenizer.add($0) }.joined()
            text += detokenizer.flush()
            if promptText + text != tokenizer.decode(ids) { mismatches.append("\(ids)") }
        }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.count) differ: \(mismatches.prefix(4))")
    }

    @Test("byte-fallback tokens of one emoji yield nothing until the last completes it")
    func holdsBackIncompleteCharacters() throws {
        let tokenizer = try Fixtures.tokenizer("tiny_spm")
        let ids = tokenizer.encode("a 🦀", addSpecialTokens: false)
        let bytes = ids.filter { tokenizer.tokenString($0)?.hasPrefix("<0x") == true }
        #expect(bytes.count == 4)
        var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer)
        let deltas = ids.map { detokenizer.add($0) }
        #expect(deltas.suffix(4) == ["", "", "", "🦀"])
        #expect(deltas.joined() == "a 🦀")
        // A stream cut inside the character gives its bytes as U+FFFD on flush, as decode() does.
        var cut = IncrementalDetokenizer(tokenizer: tokenizer)
        let partial = ids.dropLast(2).map { cut.add($0) }.joined() + cut.flush()
        #expect(partial == tokenizer.decode(Array(ids.dropLast(2))))
        #expect(partial.hasSuffix("\u{FFFD}\u{FFFD}"))
    }
}

/// Streams each corpus string's HF ids `chunk` at a time and compares with `decode`.
func checkStreaming(
    _ tokenizer: Tokenizer, _ expected: Fixtures.Expected, _ name: String, chunk: Int, _ skipSpecialTokens: Bool
) throws {
    var mismatches: [String] = []
    var brokenCharacters: [String] = []
    for ids in expected.ids {
        let full = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
        var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skipSpecialTokens)
        var deltas: [String] = []
        for start in stride(from: 0, to: ids.count, by: chunk) {
            deltas.append(detokenizer.add(ids[start..<min(start + chunk, ids.count)]))
        }
        deltas.append(detokenizer.flush())
        if deltas.joined() != full { mismatches.append("\(ids): \(deltas) != \(full.debugDescription)") }
        if !full.unicodeScalars.contains("\u{FFFD}"), deltas.contains(where: { $0.unicodeScalars.contains("\u{FFFD}") }) {
            brokenCharacters.append("\(ids): \(deltas)")
        }
    }
    #expect(mismatches.isEmpty, "\(name): \(mismatches.count) streams differ, e.g.\n\(mismatches.prefix(5).joined(separator: "\n"))")
    #expect(brokenCharacters.isEmpty, "\(name): U+FFFD in \(brokenCharacters.count) streams, e.g. \(brokenCharacters.prefix(3))")
}
