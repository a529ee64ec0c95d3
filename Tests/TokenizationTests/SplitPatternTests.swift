import Testing
@testable import Tokenization

/// The hand-written split scanners on the cases their regexes make subtle, with the splits HF
/// tokenizers gives (`pre_tokenizers.Split(Regex(pattern), "isolated").pre_tokenize_str`).
@Suite("Split patterns")
struct SplitPatternTests {
    static func pieces(_ pattern: SplitPattern, _ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var start = 0
        return pattern.matchEnds(in: scalars).map { end in
            defer { start = end }
            return String(String.UnicodeScalarView(scalars[start..<end]))
        }
    }

    @Test("GPT-2")
    func gpt2() {
        #expect(Self.pieces(.gpt2, "a   b") == ["a", "  ", " b"])
        #expect(Self.pieces(.gpt2, "I'm DON'T") == ["I", "'m", " DON", "'", "T"])
        #expect(Self.pieces(.gpt2, "x\t y  ") == ["x", "\t", " y", "  "])
        #expect(Self.pieces(.gpt2, "12345 apples") == ["12345", " apples"])
        #expect(Self.pieces(.gpt2, "  \n\n  x") == ["  \n\n ", " x"])
        #expect(Self.pieces(.gpt2, "(foo) a\r\nb") == ["(", "foo", ")", " a", "\r", "\n", "b"])
        #expect(Self.pieces(.gpt2, "don’t 'S") == ["don", "’", "t", " '", "S"])
    }

    @Test("Llama 3")
    func llama3() {
        #expect(Self.pieces(.llama3, "a   b") == ["a", "  ", " b"])
        #expect(Self.pieces(.llama3, "I'm DON'T") == ["I", "'m", " DON", "'T"])
        #expect(Self.pieces(.llama3, "x\t y  ") == ["x", "\t", " y", "  "])
        #expect(Self.pieces(.llama3, "12345 apples") == ["123", "45", " apples"])
        #expect(Self.pieces(.llama3, "  \n\n  x") == ["  \n\n", " ", " x"])
        #expect(Self.pieces(.llama3, "(foo) a\r\nb") == ["(foo", ")", " a", "\r\n", "b"])
        #expect(Self.pieces(.llama3, "don’t 'S") == ["don", "’t", " '", "S"])
    }

    @Test("Qwen2 splits every digit")
    func qwen2() {
        #expect(Self.pieces(.qwen2, "12345 apples") == ["1", "2", "3", "4", "5", " apples"])
        #expect(Self.pieces(.qwen2, "  \n\n  x") == ["  \n\n", " ", " x"])
    }

    @Test("known regexes are recognised, others are not")
    func recognition() {
        #expect(SplitPattern(regex: SplitPattern.llama3Regex) == .llama3)
        #expect(SplitPattern(regex: SplitPattern.qwen2Regex) == .qwen2)
        #expect(SplitPattern(regex: #"\w+|[^\w\s]+"#) == nil)
    }
}
