import ChatTemplates
import Testing

struct JinjaValueTests {
    @Test func literalsBuildValues() {
        let value: JinjaValue = ["b": 1, "a": [true, nil, 2.5, "x"]]
        guard case .dictionary(let dictionary) = value else {
            Issue.record("not a dictionary")
            return
        }
        #expect(dictionary.keys == ["b", "a"])
        #expect(dictionary["a"] == .array([.bool(true), .none, .double(2.5), .string("x")]))
    }

    @Test func dictionaryKeepsInsertionOrder() {
        var dictionary = JinjaDictionary()
        dictionary["z"] = 1
        dictionary["a"] = 2
        dictionary["z"] = 3
        #expect(dictionary.keys == ["z", "a"])
        #expect(dictionary["z"] == 3)
        dictionary["z"] = nil
        #expect(dictionary.keys == ["a"])
        #expect(dictionary.count == 1)
    }

    @Test func jsonParsingKeepsOrderAndTypes() throws {
        let value = try JinjaValue(json: #" {"z": 1, "a": [1.0, -2, 3e2, "\u00e9\ud83d\ude80\n", true, null], "z2": {}} "#)
        let dictionary = try #require(value.dictionaryValue)
        #expect(dictionary.keys == ["z", "a", "z2"])
        #expect(dictionary["a"] == [.double(1), .int(-2), .double(300), .string("é🚀\n"), true, nil])
        #expect(dictionary["z2"] == .dictionary(JinjaDictionary()))
    }

    @Test func jsonErrorsSayWhere() {
        do {
            _ = try JinjaValue(json: #"{"a": 1 "b": 2}"#)
            Issue.record("no error")
        } catch let error as JSONParseError {
            #expect(error.offset == 8)
            #expect(error.description == "invalid JSON at byte 8: expected ',' or '}' in an object")
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: JSONParseError.self) { try JinjaValue(json: "[1, 2") }
        #expect(throws: JSONParseError.self) { try JinjaValue(json: "01") }
        #expect(throws: JSONParseError.self) { try JinjaValue(json: "\"a") }
        #expect(throws: JSONParseError.self) { try JinjaValue(json: "[1] x") }
    }

    @Test func renderWithoutFixedTimeUsesTheClock() throws {
        let year = try ChatTemplate("{{ strftime_now('%Y') }}").render([:])
        #expect(Int(year).map { $0 >= 2024 } == true)
    }

    @Test func errorsAreOneReadableLine() throws {
        do {
            _ = try ChatTemplate("{{ raise_exception('bad\\nroles') }}").render([:], time: Fixtures.time)
            Issue.record("no error")
        } catch let error as ChatTemplateError {
            #expect(error.kind == .raised)
            #expect(error.message == "bad\nroles")
            #expect(error.description == "chat template raised an exception at line 1: bad\\nroles")
        }
    }
}
