import ChatTemplates
import Foundation
import Testing

/// Reads the reference data written by scripts/make_template_fixtures.py.
enum Fixtures {
    /// The time the fixtures' `strftime_now` saw (FIXED_NOW in the script).
    static let time = TemplateTime(year: 2025, month: 3, day: 14, hour: 9, minute: 26, second: 53)

    static func url(_ name: String) throws -> URL {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return directory.appendingPathComponent(name)
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: try url(name)), as: UTF8.self)
    }

    /// A JSON fixture file as an array of objects.
    static func objects(_ name: String) throws -> [JinjaDictionary] {
        let document = try JinjaValue(json: try text(name))
        return try #require(document.arrayValue).map { try #require($0.dictionaryValue) }
    }

    static func context(_ object: JinjaDictionary) throws -> [String: JinjaValue] {
        var context: [String: JinjaValue] = [:]
        for (key, value) in try #require(object["context"]?.dictionaryValue).entries {
            context[key] = value
        }
        return context
    }

    /// The `ChatTemplateError.Kind`s that stand for a Python exception class.
    static func kinds(forPythonError name: String) -> Set<ChatTemplateError.Kind> {
        switch name {
        case "TemplateError": return [.raised]
        case "UndefinedError": return [.undefined]
        case "TypeError": return [.type]
        case "SecurityError": return [.security]
        case "ValueError", "ZeroDivisionError", "KeyError", "IndexError": return [.value]
        case "AttributeError": return [.type]
        case "OverflowError": return [.limit]
        case "TemplateSyntaxError", "TemplateAssertionError": return [.syntax]
        case "TemplateRuntimeError": return [.type, .syntax]
        case "FilterArgumentError": return [.type, .value]
        default: return []
        }
    }

    /// Checks one rendered case against its expected `output`, or its expected `error` and `message`.
    static func check(_ object: JinjaDictionary, label: String, render: () throws -> String) throws {
        if let expected = object["output"]?.stringValue {
            do {
                let output = try render()
                #expect(output == expected, "\(label): output differs from jinja2")
            } catch {
                Issue.record("\(label): expected output, got \(error)")
            }
            return
        }
        let pythonError = try #require(object["error"]?.stringValue)
        let message = try #require(object["message"]?.stringValue)
        do {
            let output = try render()
            Issue.record("\(label): expected \(pythonError) \(message.debugDescription), rendered \(output.debugDescription)")
        } catch let error as ChatTemplateError {
            #expect(kinds(forPythonError: pythonError).contains(error.kind), "\(label): \(pythonError) became \(error.kind)")
            #expect(error.message == message, "\(label): error message differs from jinja2")
            #expect(!error.description.contains("\n"), "\(label): description is not one line")
        }
    }
}
