import ChatTemplates
import Testing

/// Templates jinja2 refuses are refused here too, as one-line syntax errors on jinja2's line.
struct MalformedTemplateTests {
    @Test func malformedTemplatesFailLikeJinja2() throws {
        let cases = try Fixtures.objects("malformed.json")
        #expect(cases.count > 20)
        for object in cases {
            let label = object["name"]?.stringValue ?? "?"
            let source = try #require(object["template"]?.stringValue)
            do {
                let output = try ChatTemplate(source).render([:], time: Fixtures.time)
                Issue.record("\(label): rendered \(output.debugDescription) instead of failing")
            } catch let error as ChatTemplateError {
                #expect(error.kind == .syntax, "\(label): \(error.kind) instead of a syntax error")
                if case .int(let line)? = object["line"] {
                    #expect(error.line == line, "\(label): line \(error.line.map(String.init) ?? "nil"), jinja2 says \(line)")
                }
                #expect(error.message == object["message"]?.stringValue, "\(label): message differs from jinja2")
                #expect(!error.description.contains("\n"), "\(label): description is not one line")
            }
        }
    }

    @Test func syntaxErrorDescriptionNamesTheLine() {
        #expect(throws: ChatTemplateError(.syntax, "Encountered unknown tag 'frobnicate'.", line: 3)) {
            try ChatTemplate("a\nb\n{% frobnicate %}")
        }
        do {
            _ = try ChatTemplate("{{ x ")
        } catch {
            #expect("\(error)" == "chat template syntax error at line 1: unexpected end of template, expected 'end of print statement'.")
        }
    }

    @Test func unsupportedTagsAreClearErrors() {
        for tag in ["extends 'base.html'", "include 'x'", "import 'x' as y", "block body", "autoescape true"] {
            #expect(throws: ChatTemplateError.self) { try ChatTemplate("{% \(tag) %}") }
            do {
                _ = try ChatTemplate("{% \(tag) %}")
            } catch let error as ChatTemplateError {
                #expect(error.kind == .unsupported)
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}
