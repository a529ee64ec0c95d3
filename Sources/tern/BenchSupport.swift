import Engine
import EngineCore
import Foundation
import Tokenization

/// Seeded random-token prompts, as vLLM's random dataset (special tokens left out).
enum BenchPrompts {
    static func make(count: Int, inputLength: Int, prefixLength: Int, tokenizer: Tokenizer, vocabularySize: Int,
                     seed: UInt64) -> [[Int32]] {
        var generator = SplitMix64(seed: seed)
        func token() -> Int32 {
            while true {
                let candidate = Int32(generator.next() % UInt64(vocabularySize))
                if !tokenizer.isSpecial(candidate) { return candidate }
            }
        }
        let prefix = (0..<prefixLength).map { _ in token() }
        return (0..<count).map { _ in prefix + (0..<inputLength).map { _ in token() } }
    }
}

/// A one-line progress counter on standard error.
struct BenchProgress {
    let total: Int
    let enabled: Bool
    private var done = 0

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    mutating func advance(by count: Int = 1) {
        done += count
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r  \(done)/\(total) done".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// Prints named figures as a table or as one JSON object.
enum BenchReport {
    static func print(_ figures: [(String, Double)], json: Bool, title: String) throws {
        if json {
            let body = figures.map { name, value in
                let number = value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
                return "\"\(name)\": \(number)"
            }
            writeStandardOutput("{" + body.joined(separator: ", ") + "}\n")
            return
        }
        let width = figures.map(\.0.count).max() ?? 0
        var lines = [title, String(repeating: "-", count: max(title.count, width + 16))]
        for (name, value) in figures {
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(format: "%12.3f", value))
        }
        writeStandardOutput(lines.joined(separator: "\n") + "\n")
    }
}
