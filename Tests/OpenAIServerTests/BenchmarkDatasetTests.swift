import Foundation
@testable import OpenAIServer
import Testing

/// The prompts `tern bench serve` sends: seeded, within vLLM's filters, in vLLM's file formats.
struct BenchmarkDatasetTests {
    @Test func shareGPTLikeLengthsAreSeededAndFiltered() {
        let prompts = BenchmarkDataset.shareGPTLike(count: 2000, vocabularySize: 1000, seed: 7)
        #expect(prompts == BenchmarkDataset.shareGPTLike(count: 2000, vocabularySize: 1000, seed: 7))
        #expect(prompts != BenchmarkDataset.shareGPTLike(count: 2000, vocabularySize: 1000, seed: 8))
        var inputs: [Int] = [], outputs: [Int] = []
        for prompt in prompts {
            guard case .tokens(let ids) = prompt.prompt else { Issue.record("token prompts"); return }
            #expect(ids.allSatisfy { (0..<1000).contains($0) })
            inputs.append(ids.count)
            outputs.append(prompt.outputLength)
            #expect(ids.count >= 4 && ids.count <= 1024 && prompt.outputLength >= 4 && ids.count + prompt.outputLength <= 2048)
        }
        let medianInput = inputs.sorted()[1000], medianOutput = outputs.sorted()[1000]
        #expect((130...190).contains(medianInput), "median prompt \(medianInput)")
        #expect((160...220).contains(medianOutput), "median output \(medianOutput)")
        #expect(Set(inputs).count > 200, "lengths spread")
    }

    @Test func shareGPTFilesKeepWhatVLLMKeeps() async throws {
        let words = { (text: String) in text.split(separator: " ").count }
        let file = #"""
            [{"conversations": [{"from": "human", "value": "one two three four five"}, {"from": "gpt", "value": "a b c d e f"}]},
             {"conversations": [{"from": "human", "value": "too short"}, {"from": "gpt", "value": "a b c d"}]},
             {"conversations": [{"from": "human", "value": "only one turn here at all"}]},
             {"conversations": [{"from": "human", "value": "w x y z q"}, {"from": "gpt", "value": "r s t u"}]}]
            """#
        let prompts = try await BenchmarkDataset.shareGPT(Data(file.utf8), count: 10, outputLength: nil) { words($0) }
        #expect(prompts == [BenchmarkPrompt(prompt: .text("one two three four five"), outputLength: 6),
                            BenchmarkPrompt(prompt: .text("w x y z q"), outputLength: 4)])
        let fixed = try await BenchmarkDataset.shareGPT(Data(file.utf8), count: 1, outputLength: 50) { words($0) }
        #expect(fixed == [BenchmarkPrompt(prompt: .text("one two three four five"), outputLength: 50)])
        await #expect(throws: BenchmarkError.self) {
            _ = try await BenchmarkDataset.shareGPT(Data("{}".utf8), count: 1, outputLength: nil) { words($0) }
        }
    }

    @Test func customJSONLines() throws {
        let file = "{\"prompt\": \"Hi\"}\n\n{\"prompt\": \"Tell a story\", \"output_tokens\": 300}\n"
        #expect(try BenchmarkDataset.custom(Data(file.utf8), count: 5, outputLength: 64) == [
            BenchmarkPrompt(prompt: .text("Hi"), outputLength: 64),
            BenchmarkPrompt(prompt: .text("Tell a story"), outputLength: 300),
        ])
        #expect(throws: BenchmarkError.self) { _ = try BenchmarkDataset.custom(Data("{\"text\": 1}".utf8), count: 1, outputLength: 8) }
    }
}
