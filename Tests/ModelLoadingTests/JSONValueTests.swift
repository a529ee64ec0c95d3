import Foundation
import Testing

import ModelLoading

@Suite struct JSONValueTests {
    @Test func parsesEveryKind() throws {
        let value = try JSONValue(parsing: #"""
             {"n": null, "t": true, "f": false, "i": -12, "x": 2.5e3, "s": "a\"b\\c\/d\n\t\u00e9\ud83e\udd99",
              "a": [1, [2, {}], []], "o": {"k": "v"}, "big": 9007199254740992, "whole": 3.0}
            """#)
        #expect(value["n"] == .null)
        #expect(value["t"]?.bool == true && value["f"]?.bool == false)
        #expect(value["i"]?.int == -12)
        #expect(value["x"]?.double == 2500)
        #expect(value["x"]?.int == 2500)
        #expect(value["s"]?.string == "a\"b\\c/d\n\té🦙")
        #expect(value["a"]?[1]?[0]?.int == 2)
        #expect(value["a"]?[1]?[1]?.object?.isEmpty == true)
        #expect(value["a"]?[2]?.array?.isEmpty == true)
        #expect(value["a"]?[3] == nil)
        #expect(value["o"]?["k"]?.string == "v")
        #expect(value["big"]?.int == 9_007_199_254_740_992)
        #expect(value["whole"]?.int == 3)
        #expect(value["missing"] == nil)
        #expect(value["t"]?.int == nil, "booleans are not numbers")
        #expect(try JSONValue(parsing: "[\"a\", \"b\"]").strings == ["a", "b"])
        #expect(try JSONValue(parsing: "[1, \"b\"]").strings == nil)
        #expect(try JSONValue(parsing: "[1, 2.5]").ints == nil)
        #expect(try JSONValue(parsing: " 7 ") == .number(7))
    }

    @Test func agreesWithJSONSerializationOnTheFixtures() throws {
        for name in ["gguf-v2.json", "single.json", "sharded.json", "sharded/config.json"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name)))
            let ours = try JSONValue(parsing: data)
            let theirs = try JSONSerialization.jsonObject(with: data)
            #expect(ours == convert(theirs), "\(name)")
        }
    }

    private func convert(_ value: Any) -> JSONValue {
        switch value {
        case is NSNull: return .null
        case let string as String: return .string(string)
        case let array as [Any]: return .array(array.map(convert))
        case let object as [String: Any]: return .object(object.mapValues(convert))
        case let number as NSNumber:
            // JSONSerialization gives NSNumber for both; the fixtures' booleans are named in
            // their "type" fields or are known keys, so decide by the number's own type.
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            return .number(number.doubleValue)
        default: return .null
        }
    }

    @Test func describesAsJSON() throws {
        let value = try JSONValue(parsing: #"{"b": [true, null, 1.5, 2], "a": "q\"\n\u0001"}"#)
        #expect(value.description == #"{"a":"q\"\n\u0001","b":[true,null,1.5,2]}"#)
    }

    @Test(arguments: [
        ("", 0, "unexpected end of text, expected a value"),
        ("{\"a\" 1}", 5, "expected ':'"),
        ("[1, 2", 5, "expected ',' or ']'"),
        ("[1,]", 3, "unexpected ']', expected a value"),
        ("01", 1, "unexpected '1' after the value"),
        ("-", 1, "invalid number"),
        ("1.", 2, "no digits after '.'"),
        ("1e+", 3, "no digits in the exponent"),
        ("tru", 0, "unexpected 't', expected a value"),
        ("\"abc", 0, "unterminated string"),
        ("\"a\u{01}\"", 2, "control character 0x1 inside a string"),
        ("\"\\x\"", 2, "invalid escape character 'x' after a backslash"),
        ("\"\\u12G4\"", 5, "invalid hex digit 'G'"),
        ("{} {}", 3, "unexpected '{' after the value"),
    ])
    func reportsWhereTextIsInvalid(text: String, offset: Int, message: String) {
        do {
            let value = try JSONValue(parsing: text)
            Issue.record("parsed \(value)")
        } catch let error as JSONParseError {
            #expect(error.offset == offset, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("invalid JSON at byte \(offset): "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() throws {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Data([0x22, 0xFF, 0x22])) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Data([0x22, 0x5C, 0x6E, 0xC3, 0x22])) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        #expect(error?.message.contains("nested more than 512 levels deep") == true)
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSONValue(parsing: #""\ud800x""#) == .string("\u{FFFD}x"))
        #expect(try JSONValue(parsing: #""\udc00""#) == .string("\u{FFFD}"))
    }
}
