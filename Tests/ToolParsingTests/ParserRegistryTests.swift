import Foundation
import Testing
import ToolParsing

struct ParserRegistryTests {
    @Test func namesAndAliases() {
        #expect(ToolParsers.names == ["hermes", "llama3_json", "mistral", "pythonic", "deepseek_v3", "openai"])
        for name in ToolParsers.names { #expect(ToolParsers.parser(named: name)?.name == name) }
        #expect(ToolParsers.parser(named: "llama4_pythonic")?.name == "pythonic")
        #expect(ToolParsers.parser(named: "nope") == nil)
        #expect(ReasoningParsers.names == ["deepseek_r1", "qwen3", "openai_gptoss"])
        #expect(ReasoningParsers.parser(named: "openai")?.name == "openai_gptoss")
        #expect(ReasoningParsers.parser(named: "nope") == nil)
    }

    @Test func parsersRunThroughTheRegistry() throws {
        let type = try #require(ToolParsers.parser(named: "hermes"))
        var parser = type.init()
        let events = parser.feed("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>") + parser.finish()
        #expect(events == [.toolCallStart(index: 0, name: "f"), .arguments(index: 0, fragment: "{}")])
    }

    /// The chat templates of ChatTemplatesTests, read from that target's sources.
    private func template(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../ChatTemplatesTests/Fixtures/templates/\(name).jinja")
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test(arguments: [
        ("hermes-2-pro", "hermes"), ("qwen2.5", "hermes"), ("qwen3", "hermes"), ("llama-3.1", "llama3_json"),
        ("llama-3.2", "llama3_json"), ("mistral-nemo", "mistral"), ("deepseek-r1-distill-qwen", "deepseek_v3"),
        ("gpt-oss", "openai"), ("gemma-2", nil), ("gemma-3", nil), ("phi-3.5", nil), ("smollm2", nil), ("smollm3", nil),
    ] as [(String, String?)])
    func detectToolParser(template name: String, parser: String?) throws {
        #expect(ToolParsers.detect(chatTemplate: try template(name)) == parser)
    }

    @Test(arguments: [
        ("deepseek-r1-distill-qwen", "deepseek_r1"), ("qwen3", "qwen3"), ("smollm3", "qwen3"), ("gpt-oss", "openai_gptoss"),
        ("qwen2.5", nil), ("hermes-2-pro", nil), ("llama-3.1", nil), ("mistral-nemo", nil),
    ] as [(String, String?)])
    func detectReasoningParser(template name: String, parser: String?) throws {
        #expect(ReasoningParsers.detect(chatTemplate: try template(name)) == parser)
    }

    @Test func detectPythonicAndAmbiguous() {
        let pythonic = "Respond as [func_name1(params_name1=params_value1, params_name2=params_value2...), func_name2(params)]"
        #expect(ToolParsers.detect(chatTemplate: pythonic) == "pythonic")
        #expect(ToolParsers.detect(chatTemplate: "<tool_call> or [TOOL_CALLS]") == nil)
    }
}
