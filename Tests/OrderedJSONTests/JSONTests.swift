import Testing

@testable import OrderedJSON

struct JSONTests {
    @Test func keepsMemberOrderAndLiterals() throws {
        let text = #"{"z":1,"a":[true,false,null],"m":{"y":"é\n","b":1.50e3},"big":12345678901234567890}"#
        let value = try JSON(parsing: text)
        #expect(value.object?.keys == ["z", "a", "m", "big"])
        #expect(value["m"]?.object?.keys == ["y", "b"])
        #expect(value["m"]?["b"]?.number?.text == "1.50e3")
        #expect(value["m"]?["b"]?.number?.int64 == 1500)
        #expect(value["big"]?.number?.int64 == nil)
        #expect(value.serialized() == text)
    }

    @Test func pythonStyleSeparators() throws {
        let value = try JSON(parsing: #"{"a": [1, 2], "b": {"c": "d"}}"#)
        #expect(value.serializedPythonStyle() == #"{"a": [1, 2], "b": {"c": "d"}}"#)
    }

    @Test func duplicateKeyKeepsFirstPositionLastValue() throws {
        let value = try JSON(parsing: #"{"a":1,"b":2,"a":3}"#)
        #expect(value.serialized() == #"{"a":3,"b":2}"#)
    }

    @Test func escapesAndSurrogates() throws {
        let value = try JSON(parsing: #""\u00e9\ud83d\ude00\t\"\\\/\u0001""#)
        #expect(value.string == "é😀\t\"\\/\u{01}")
        #expect(value.serialized() == #""é😀\t\"\\/\u0001""#)
    }

    @Test func numbersCompareByValue() throws {
        #expect(try JSON(parsing: "1") == JSON(parsing: "1.0"))
        #expect(try JSON(parsing: "1.0").typeName == "integer")
        #expect(try JSON(parsing: "1.5").typeName == "number")
        #expect(try JSON(parsing: #"{"a":1,"b":2}"#) == JSON(parsing: #"{"b":2,"a":1}"#))
        #expect(JSONNumber("01") == nil)
        #expect(JSONNumber("-0.5e-3")?.double == -0.0005)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "1e", "+1", "tru", "nul", "\"abc", "\"\u{01}\"",
        "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u12\"", "{\"a\" 1}", "[1 2]", "1 2", "NaN", "{1:2}",
        "// c\n1", "[1]]",
    ])
    func rejectsMalformedText(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSON(parsing: text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSON(parsing: [0x22, 0xFF, 0x22]) }
    }

    @Test func depthIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSON(parsing: deep) }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try JSON(parsing: ok).array?.count == 1)
    }

    @Test func errorsGiveTheOffset() {
        do {
            _ = try JSON(parsing: #"{"a": tru}"#)
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 6)
        }
    }

    @Test func objectEditing() {
        var object = JSONObject([("a", .null), ("b", .bool(true)), ("c", .string("x"))])
        object["b"] = nil
        object["d"] = .number(JSONNumber(7))
        #expect(Array(object.keys) == ["a", "c", "d"])
        #expect(object["c"] == .string("x"))
        #expect(JSON.object(object).serialized() == #"{"a":null,"c":"x","d":7}"#)
    }
}
