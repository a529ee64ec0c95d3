import EngineCore
import Foundation

/// One request of a serving benchmark: its prompt and how many tokens it asks for.
public struct BenchmarkPrompt: Sendable, Equatable {
    public enum Prompt: Sendable, Equatable {
        /// Token ids (every server sees exactly that many tokens).
        case tokens([Int])
        /// Text, tokenized by the server.
        case text(String)
    }

    public var prompt: Prompt
    public var outputLength: Int

    public init(prompt: Prompt, outputLength: Int) {
        self.prompt = prompt
        self.outputLength = outputLength
    }
}

/// The prompts of `tern bench serve`, as vLLM's `benchmark_serving` makes them.
public enum BenchmarkDataset: Sendable {
    /// Random token prompts of the options' lengths.
    case random
    /// Random token prompts of ShareGPT-like lengths (`shareGPTLike`).
    case shareGPTLike
    /// A ShareGPT file's conversations; a fixed output length, or each answer's.
    case shareGPT(Data, outputLength: Int?)
    /// vLLM's custom JSONL.
    case custom(Data)

    /// `random`: `count` prompts of `inputLength` token ids below `vocabularySize`, each asking
    /// for `outputLength` tokens.
    public static func random(count: Int, inputLength: Int, outputLength: Int, vocabularySize: Int,
                              seed: UInt64) -> [BenchmarkPrompt] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            BenchmarkPrompt(prompt: .tokens((0..<inputLength).map { _ in Int(random.next() % UInt64(vocabularySize)) }),
                            outputLength: outputLength)
        }
    }

    /// `sharegpt-like`: random token prompts whose lengths follow ShareGPT's as vLLM filters it
    /// (prompt and output at least 4 tokens, prompt at most 1024, both together at most 2048),
    /// drawn from log-normal fits to those lengths: prompt median 160 tokens (sigma 1.0), output
    /// median 190 (sigma 0.9). A stated synthetic distribution, not the conversations
    /// themselves (those come with `--dataset sharegpt --dataset-path`).
    public static func shareGPTLike(count: Int, vocabularySize: Int, seed: UInt64) -> [BenchmarkPrompt] {
        var random = SplitMix64(seed: seed)
        func normal() -> Double {
            // Box-Muller from two uniforms in (0, 1).
            let u = max(random.nextUnit(), 1e-12), v = random.nextUnit()
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        return (0..<count).map { _ in
            var input = 0, output = 0
            repeat {
                input = Int((log(160) + 1.0 * normal()).exp.rounded())
                output = Int((log(190) + 0.9 * normal()).exp.rounded())
            } while input < 4 || output < 4 || input > 1024 || input + output > 2048
            return BenchmarkPrompt(prompt: .tokens((0..<input).map { _ in Int(random.next() % UInt64(vocabularySize)) }),
                                   outputLength: output)
        }
    }

    /// vLLM's ShareGPT file (`[{"conversations": [{"from": "human", "value": ...}, {"from": "gpt",
    /// "value": ...}]}]`): each conversation's first human turn is a prompt, and its answer's length
    /// is what it asks for, counted by `countTokens` (the server's tokenizer), unless `outputLength`
    /// fixes it. Conversations vLLM would drop (fewer than two turns, prompt or answer under 4
    /// tokens, prompt over 1024, both over 2048) are skipped; the first `count` kept, in order.
    public static func shareGPT(_ data: Data, count: Int, outputLength: Int?,
                                countTokens: (String) async throws -> Int) async throws -> [BenchmarkPrompt] {
        guard let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw BenchmarkError("a ShareGPT file is a JSON list of objects with \"conversations\"")
        }
        var prompts: [BenchmarkPrompt] = []
        for entry in entries where prompts.count < count {
            guard let turns = entry["conversations"] as? [[String: Any]], turns.count >= 2,
                  let question = turns[0]["value"] as? String, let answer = turns[1]["value"] as? String else { continue }
            let input = try await countTokens(question)
            let output: Int
            if let outputLength { output = outputLength } else { output = try await countTokens(answer) }
            guard input >= 4, output >= 4, input <= 1024, input + output <= 2048 else { continue }
            prompts.append(BenchmarkPrompt(prompt: .text(question), outputLength: output))
        }
        guard !prompts.isEmpty else { throw BenchmarkError("the ShareGPT file has no conversation vLLM would keep") }
        return prompts
    }

    /// vLLM's custom JSONL (one `{"prompt": ...}` object a line; an `output_tokens` or
    /// `output_len` field sets that request's length, else `outputLength`).
    public static func custom(_ data: Data, count: Int, outputLength: Int) throws -> [BenchmarkPrompt] {
        var prompts: [BenchmarkPrompt] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated()
        where prompts.count < count {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let prompt = object["prompt"] as? String else {
                throw BenchmarkError("line \(number + 1) of the JSONL file is not an object with a string \"prompt\"")
            }
            let length = (object["output_tokens"] as? Int) ?? (object["output_len"] as? Int) ?? outputLength
            guard length > 0 else { throw BenchmarkError("line \(number + 1): the output length must be > 0") }
            prompts.append(BenchmarkPrompt(prompt: .text(prompt), outputLength: length))
        }
        guard !prompts.isEmpty else { throw BenchmarkError("the JSONL file holds no prompt") }
        return prompts
    }
}

private extension Double {
    var exp: Double { Foundation.exp(self) }
}
