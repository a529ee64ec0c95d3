import Testing
import Tokenization

/// `tokenBytes`, what the grammar engine matches tokens by: the bytes of a text's tokens, put
/// together, are the text's UTF-8 (byte-level tokenizers), or the text with SentencePiece's
/// leading space; and the bytes of HF's ids are what HF decodes them to, byte for byte.
struct TokenBytesTests {
    @Test(arguments: Fixtures.jsonTokenizerNames)
    func tokensSpellTheText(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let expected = try Fixtures.expected(name)
        var mismatches: [String] = []
        for (index, ids) in expected.ids.enumerated() {
            let pieces = ids.map { tokenizer.tokenBytes(Int32($0)) }
            // Special tokens are not text: compare the text between them.
            guard !pieces.contains(where: { $0 == nil }) else { continue }
            let bytes = pieces.flatMap { $0! }
            let decoded = Array(expected.decoded[index].utf8)
            if bytes != decoded && !(bytes.first == 0x20 && Array(bytes.dropFirst()) == decoded) {
                mismatches.append(Fixtures.corpus[index].debugDescription)
            }
        }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.count) differ, e.g. \(mismatches.prefix(5))")
    }

    @Test func specialTokensHaveNoBytes() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        for id in tokenizer.eosTokenIDs { #expect(tokenizer.tokenBytes(id) == nil) }
        let all = tokenizer.allTokenBytes()
        #expect(all.count == tokenizer.vocabularySize)
        // Every printable ASCII byte is a token of its own.
        let singles = Set(all.compactMap { $0 }.filter { $0.count == 1 }.map { $0[0] })
        #expect(Set(UInt8(0x20)...UInt8(0x7E)).isSubset(of: singles))
    }
}
