#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import Tokenization

/// Encoding speed on about 10k tokens of English prose and code, first encode of the text (no
/// cached pieces). Timed in CPU time of the calling thread, so that other work on the machine
/// does not count. The bound is the release one (100 ms); debug builds, which `swift test`
/// makes by default, get a looser one.
@Suite("Speed")
struct TokenizerSpeedTests {
    #if DEBUG
    static let limit = Duration.seconds(8)
    #else
    static let limit = Duration.milliseconds(100)
    #endif

    /// English and code from the corpus, each paragraph numbered so that the text varies.
    static let text: String = {
        let paragraphs = Fixtures.corpus.prefix(40) + Fixtures.corpus.filter { $0.contains("def ") || $0.contains("func ") }
        return (0..<14).map { round in
            paragraphs.map { "\($0) (\(round))" }.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }()

    static func cpuTime(_ work: () -> Void) -> Duration {
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        work()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        return .seconds(end.tv_sec - start.tv_sec) + .nanoseconds(end.tv_nsec - start.tv_nsec)
    }

    @Test("byte-level (Llama 3 split): 10k tokens under the limit, and back to the same text")
    func byteLevel() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        var ids: [Int32] = []
        let elapsed = Self.cpuTime { ids = tokenizer.encode(Self.text) }
        #expect(ids.count >= 9_000)
        #expect(elapsed < Self.limit, "\(ids.count) tokens took \(elapsed)")
        #expect(tokenizer.decode(ids) == Self.text)
    }

    @Test("SentencePiece merged by score (Gemma 3): 10k tokens under the limit",
          .enabled(if: Fixtures.gemmaGGUFPath != nil, "Gemma 3 GGUF not found (~/.cache/tern or TERN_GEMMA_GGUF)"))
    func sentencePiece() throws {
        let tokenizer = try Fixtures.gemmaGGUF.get()
        var ids: [Int32] = []
        let elapsed = Self.cpuTime { ids = tokenizer.encode(Self.text) }
        #expect(ids.count >= 9_000)
        #expect(elapsed < Self.limit, "\(ids.count) tokens took \(elapsed)")
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == Self.text)
    }
}
