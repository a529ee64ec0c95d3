import Foundation
import OrderedJSON
import StructuredOutputs
import Testing

@testable import OpenAIServer

/// Every spelling of a structured-output constraint, and the 400s for bad ones.
struct StructuredOutputFieldTests {
    static func constraint(_ body: String) throws -> (field: String, constraint: StructuredConstraint)? {
        try StructuredOutputFields.constraint(in: Array(body.utf8))
    }

    @Test func everySpellingIsRead() throws {
        let schema = try JSON(parsing: #"{"type": "object", "properties": {"b": {}, "a": {}}}"#)
        let cases: [(String, String, StructuredConstraint)] = [
            (#"{"response_format": {"type": "json_object"}}"#, "response_format", .jsonObject()),
            (#"{"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": true, "schema": {"type": "object", "properties": {"b": {}, "a": {}}}}}}"#,
             "response_format", .jsonSchema(schema)),
            (#"{"structured_outputs": {"json": {"type": "object", "properties": {"b": {}, "a": {}}}}}"#, "structured_outputs.json", .jsonSchema(schema)),
            (#"{"structured_outputs": {"regex": "a+", "disable_any_whitespace": true}}"#, "structured_outputs.regex", .regex("a+")),
            (#"{"structured_outputs": {"choice": ["x", "y"]}}"#, "structured_outputs.choice", .choice(["x", "y"])),
            (#"{"structured_outputs": {"grammar": "root ::= \"a\""}}"#, "structured_outputs.grammar", .grammar(#"root ::= "a""#)),
            (#"{"structured_outputs": {"json_object": true, "disable_any_whitespace": true}}"#, "structured_outputs.json_object", .jsonObject(whitespace: .compact)),
            (#"{"guided_json": "{\"type\": \"object\", \"properties\": {\"b\": {}, \"a\": {}}}"}"#, "guided_json", .jsonSchema(schema)),
            (#"{"guided_regex": "\\d+"}"#, "guided_regex", .regex(#"\d+"#)),
            (#"{"guided_choice": ["a"]}"#, "guided_choice", .choice(["a"])),
            (#"{"guided_grammar": "root ::= \"a\""}"#, "guided_grammar", .grammar(#"root ::= "a""#)),
            (#"{"grammar": "root ::= \"a\""}"#, "grammar", .grammar(#"root ::= "a""#)),
            (#"{"json_schema": {"type": "object", "properties": {"b": {}, "a": {}}}}"#, "json_schema", .jsonSchema(schema)),
        ]
        for (body, field, expected) in cases {
            let found = try #require(try Self.constraint(body), "\(body)")
            #expect(found.field == field, "\(body)")
            #expect(found.constraint == expected, "\(body)")
        }
        // Property order is the client's.
        if case .jsonSchema(let parsed, _)? = try Self.constraint(cases[1].0)?.constraint {
            #expect(parsed["properties"]?.object?.keys == ["b", "a"])
        }
        #expect(try Self.constraint(#"{"response_format": {"type": "text"}, "prompt": "x"}"#) == nil)
        #expect(try Self.constraint(#"{"prompt": "grammar"}"#) == nil)
    }

    @Test func badFieldsAre400sNamingThem() {
        let cases: [(String, String)] = [
            (#"{"guided_regex": "a", "guided_choice": ["b"]}"#, "guided_choice"),
            (#"{"response_format": {"type": "json_object"}, "structured_outputs": {"regex": "a"}}"#, "structured_outputs.regex"),
            (#"{"structured_outputs": {"regex": 5}}"#, "structured_outputs.regex"),
            (#"{"structured_outputs": {"choice": []}}"#, "structured_outputs.choice"),
            (#"{"structured_outputs": {"colour": "red"}}"#, "structured_outputs"),
            (#"{"structured_outputs": "a"}"#, "structured_outputs"),
            (#"{"guided_json": 7}"#, "guided_json"),
            (#"{"guided_json": "not json"}"#, "guided_json"),
            (#"{"response_format": {"type": "json_schema"}}"#, "response_format"),
            (#"{"response_format": {"type": "yaml"}}"#, "response_format"),
        ]
        for (body, param) in cases {
            do {
                _ = try Self.constraint(body)
                Issue.record("\(body) was accepted")
            } catch let error as OpenAIError {
                #expect(error.status == .badRequest && error.param == param, "\(body): \(error)")
            } catch {
                Issue.record("\(body): \(error)")
            }
        }
    }

    @Test func invalidConstraintsAre400sFromTheServer() async throws {
        try await withServer(try Fixtures.engine()) { client in
            for (body, fragment) in [
                (#"{"prompt": "Hi", "structured_outputs": {"regex": "(a"}}"#, "regular expression"),
                (#"{"prompt": "Hi", "guided_grammar": "root ::= [a-"}"#, "line 1"),
                (#"{"prompt": "Hi", "guided_json": {"type": "object", "patternProperties": {"a": {}}}}"#, "patternProperties"),
                (#"{"prompt": "Hi", "guided_choice": ["a"], "ignore_eos": true}"#, "ignore_eos"),
            ] {
                let error = try await client.post("/v1/completions", body).error(.badRequest)
                #expect((error["message"] as? String)?.contains(fragment) == true, "\(body): \(error)")
            }
            #expect(try await client.post("/v1/completions", #"{"prompt": "Hi", "guided_choice": ["a", "b"], "max_tokens": 2}"#)
                .status == .ok)
        }
    }
}
