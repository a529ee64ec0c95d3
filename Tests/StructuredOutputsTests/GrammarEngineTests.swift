import Foundation
import OrderedJSON
import Testing

@testable import StructuredOutputs

/// The grammar engine against independent references: Python's `re` for regexes, Python's
/// `jsonschema` verdicts for the schema corpus, and brute force over a small vocabulary for
/// token masks.
struct GrammarEngineTests {
    static var fixtures: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    /// A vocabulary of every printable ASCII character, a few multi-byte tokens and EOS (id 0).
    static let smallVocabulary: TokenVocabulary = {
        var tokens: [[UInt8]?] = [nil]
        for byte in UInt8(0x20)...UInt8(0x7E) { tokens.append([byte]) }
        for text in ["{\"", "\":", "\"}", "true", "false", "null", "12", "ab", "\n", "  ", "é", "日本"] {
            tokens.append(Array(text.utf8))
        }
        return TokenVocabulary(tokenBytes: tokens, eosTokenIDs: [0])
    }()

    static func matcher(_ constraint: StructuredConstraint, vocabulary: TokenVocabulary = smallVocabulary) throws
        -> GrammarMatcher
    {
        GrammarMatcher(try GrammarCompiler(vocabulary: vocabulary).compile(constraint))
    }

    struct RegexCase: Decodable {
        var pattern: String
        var text: String
        var match: Bool
    }

    @Test func regexesMatchWhatPythonMatches() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("regex_cases.json"))
        let cases = try JSONDecoder().decode([RegexCase].self, from: data)
        var wrong: [String] = []
        let compiler = GrammarCompiler(vocabulary: Self.smallVocabulary)
        for item in cases {
            let matcher = GrammarMatcher(try compiler.compile(.regex(item.pattern)))
            if matcher.accepts(bytes: Array(item.text.utf8)) != item.match {
                wrong.append("\(item.pattern) on \(item.text.debugDescription): expected \(item.match)")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) of \(cases.count) differ: \(wrong.prefix(10))")
    }

    /// `\\d`, `\\w`, `\\s` and their complements decide only scalars of Unicode 14.0 (what every
    /// Python from 3.11 agrees on): U+1CCF0, a digit from Unicode 16.0 on, is in none of them.
    @Test func unicodeClassesHoldOnlyScalarsEveryPythonAgreesOn() throws {
        let compiler = GrammarCompiler(vocabulary: Self.smallVocabulary)
        func accepts(_ pattern: String, _ text: String) throws -> Bool {
            GrammarMatcher(try compiler.compile(.regex(pattern))).accepts(bytes: Array(text.utf8))
        }
        for text in ["7", "\u{06F4}", "\u{07C4}", "\u{0E53}"] { #expect(try accepts(#"\d"#, text), "\(text)") }
        #expect(try accepts(#"\D"#, "a") && accepts(#"\w"#, "\u{00E9}") && accepts(#"\s"#, "\u{3000}"))
        for pattern in [#"\d"#, #"\D"#, #"\w"#, #"\W"#, #"\s"#, #"\S"#] {
            #expect(try !accepts(pattern, "\u{1CCF0}"), "\(pattern)")
        }
    }

    @Test func unsupportedRegexConstructsAreNamed() {
        for (pattern, fragment) in [(#"(a)\1"#, "backreference"), ("(?=a)b", "lookaround"), (#"\bword"#, "word boundar"),
                                    ("a{2,1}", "max below min"), ("(ab", "missing ')'"), ("*a", "nothing to repeat")] {
            do {
                _ = try GrammarCompiler(vocabulary: Self.smallVocabulary).compile(.regex(pattern))
                Issue.record("\(pattern) compiled")
            } catch let error as StructuredOutputError {
                #expect(error.message.contains(fragment), "\(pattern): \(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Every token's bit equals a direct check of its bytes, along random walks.
    @Test(arguments: [
        StructuredConstraint.regex("[a-c]{1,3}(x|yz)*"),
        .jsonSchema(try! JSON(parsing: #"{"type": "object", "properties": {"a": {"type": "integer", "minimum": 3, "maximum": 250}, "b": {"enum": ["x", "y", null]}}, "required": ["a"]}"#)),
        .jsonObject(),
        .choice(["true", "truth", "日本語"]),
        .grammar(#"root ::= "[" item ("," item)* "]"  item ::= [0-9]+ | "\"" [a-z]* "\"""#),
    ])
    func masksAgreeWithBruteForce(_ constraint: StructuredConstraint) throws {
        let vocabulary = Self.smallVocabulary
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let matcher = try Self.matcher(constraint)
            for _ in 0..<40 {
                var words = [UInt32](repeating: 0xFFFF_FFFF, count: matcher.maskWordCount + 1)
                words.withUnsafeMutableBufferPointer { matcher.fillNextTokenBitmask($0) }
                #expect(words.last == 0)
                var allowed: [Int32] = []
                for id in 0..<vocabulary.count {
                    let bit = words[id >> 5] & (1 << UInt32(id & 31)) != 0
                    let expected: Bool
                    if let bytes = vocabulary.tokenBytes[id] {
                        expected = matcher.allows(prefix: bytes)
                    } else {
                        expected = matcher.canTerminate && vocabulary.eosTokenIDs.contains(Int32(id))
                    }
                    #expect(bit == expected, "token \(id)")
                    if bit { allowed.append(Int32(id)) }
                }
                guard let pick = allowed.randomElement(using: &generator) else { break }
                #expect(matcher.acceptToken(pick))
                if matcher.isTerminated { break }
            }
        }
    }

    @Test func eosOnlyWhereTheGrammarMayEnd() throws {
        let matcher = try Self.matcher(.choice(["ab", "abc"]))
        #expect(!matcher.canTerminate)
        #expect(!matcher.acceptToken(0))
        #expect(matcher.acceptToken(Self.tokenID("ab")))
        #expect(matcher.canTerminate)
        #expect(matcher.acceptToken(Self.tokenID("c")))
        #expect(matcher.canTerminate)
        #expect(!matcher.acceptToken(Self.tokenID("c")))
        #expect(matcher.acceptToken(0))
        #expect(matcher.isTerminated)
        matcher.rollback(tokens: 2)
        #expect(!matcher.isTerminated)
        #expect(matcher.canTerminate)
        #expect(matcher.acceptToken(Self.tokenID("c")))
        matcher.reset()
        #expect(!matcher.canTerminate)
    }

    static func tokenID(_ text: String) -> Int32 {
        Int32(smallVocabulary.tokenBytes.firstIndex { $0 == Array(text.utf8) }!)
    }

    @Test func gbnfErrorsGiveLineAndColumn() {
        for (grammar, fragment) in [("root ::= \"a\"\nitem ::= [a-", "line 2"), ("root ::= missing", "missing"),
                                    ("item ::= \"a\"", "no rule named root"), ("root ::= root \"a\"", "left-recursive"),
                                    ("root ::= \"a\" | ", "")] where !fragment.isEmpty {
            do {
                _ = try GrammarCompiler(vocabulary: Self.smallVocabulary).compile(.grammar(grammar))
                Issue.record("\(grammar) compiled")
            } catch {
                #expect("\(error)".contains(fragment), "\(grammar): \(error)")
            }
        }
    }

    @Test func llamaCppJSONGrammarAcceptsJSON() throws {
        let grammar = #"""
        root   ::= object
        value  ::= object | array | string | number | ("true" | "false" | "null") ws

        object ::=
          "{" ws (
                    string ":" ws value
            ("," ws string ":" ws value)*
          )? "}" ws

        array  ::=
          "[" ws (
                    value
            ("," ws value)*
          )? "]" ws

        string ::=
          "\"" (
            [^"\\\x7F\x00-\x1F] |
            "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
          )* "\"" ws

        number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

        # Optional space: by convention, applied in this grammar after literal chars when allowed
        ws ::= | " " | "\n" [ \t]{0,20}
        """#
        let compiled = try GrammarCompiler(vocabulary: Self.smallVocabulary).compile(.grammar(grammar))
        for text in [#"{"a": [1, 2.5, "x\n", {"b": null}], "c": true}"#, "{}", #"{"k":"日本"}"#] {
            #expect(GrammarMatcher(compiled).accepts(bytes: Array(text.utf8)), "\(text)")
        }
        for text in [#"{"a": }"#, "[1]", #"{"a" 1}"#] {
            #expect(!GrammarMatcher(compiled).accepts(bytes: Array(text.utf8)), "\(text)")
        }
    }

    @Test func unsupportedSchemaKeywordsAreNamed() {
        for (schema, keyword) in [(#"{"type": "object", "patternProperties": {"^a": {}}}"#, "patternProperties"),
                                  (#"{"type": "array", "uniqueItems": true}"#, "uniqueItems"),
                                  (#"{"type": "number", "multipleOf": 3}"#, "multipleOf"),
                                  (#"{"not": {"type": "string"}}"#, "not"),
                                  (#"{"type": "string", "format": "duration"}"#, "format"),
                                  (#"{"$ref": "https://example.com/schema"}"#, "$ref"),
                                  (#"{"type": "integer", "minimum": 5, "maximum": 2}"#, "minimum")] {
            do {
                _ = try GrammarCompiler(vocabulary: Self.smallVocabulary).compile(.jsonSchema(try JSON(parsing: schema)))
                Issue.record("\(schema) compiled")
            } catch let error as StructuredOutputError {
                #expect(error.keyword == keyword, "\(schema): \(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func integerRangesAreExact() throws {
        for (low, high) in [(0, 0), (3, 250), (-40, 17), (-999, -100), (7, 7), (95, 1005)] as [(Int, Int)] {
            let schema = try JSON(parsing: #"{"type": "integer", "minimum": \#(low), "maximum": \#(high)}"#)
            let compiled = try GrammarCompiler(vocabulary: Self.smallVocabulary).compile(.jsonSchema(schema, whitespace: .compact))
            for value in (low - 30)...(high + 30) {
                #expect(GrammarMatcher(compiled).accepts(bytes: Array(String(value).utf8)) == (low...high).contains(value),
                        "\(value) in \(low)...\(high)")
            }
            #expect(!GrammarMatcher(compiled).accepts(bytes: Array("007".utf8)))
        }
    }

    /// Over the corpus: every schema compiles or is refused naming a keyword, and no instance
    /// that `jsonschema` calls invalid is accepted (the grammar may accept fewer valid ones: it
    /// writes declared properties in order, bounded numbers as integers).
    @Test func corpusSchemasAreSound() throws {
        let url = Self.fixtures.appendingPathComponent("schema_corpus.json")
        let corpus = try JSON(parsing: Array(try Data(contentsOf: url)))
        let compiler = GrammarCompiler(vocabulary: Self.smallVocabulary, cacheCapacity: 4)
        var supported = 0, refused = 0, unsound: [String] = [], acceptedValid = 0, valid = 0, refusedWithoutKeyword: [String] = []
        for entry in corpus.array ?? [] {
            let id = entry["id"]?.string ?? "?"
            guard let schema = entry["schema"] else { continue }
            let compiled: CompiledGrammar
            do {
                compiled = try compiler.compile(.jsonSchema(schema, whitespace: .compact))
                supported += 1
            } catch let error as StructuredOutputError {
                refused += 1
                // Unsatisfiable schemas (`false` where a value is required) have no keyword to name.
                if error.keyword == nil, !error.message.contains("no value is valid") {
                    refusedWithoutKeyword.append("\(id): \(error)")
                }
                continue
            }
            for instance in entry["instances"]?.array ?? [] {
                guard let text = instance["json"]?.string, let isValid = instance["valid"]?.bool else { continue }
                let accepted = GrammarMatcher(compiled).accepts(bytes: Array(text.utf8))
                if isValid { valid += 1; if accepted { acceptedValid += 1 } }
                if accepted, !isValid { unsound.append("\(id): \(text.prefix(80))") }
            }
        }
        print("schema corpus: \(supported) compiled, \(refused) refused; valid instances accepted \(acceptedValid)/\(valid)")
        #expect(unsound.isEmpty, "\(unsound.count) invalid instances accepted: \(unsound.prefix(10))")
        #expect(refusedWithoutKeyword.isEmpty, "\(refusedWithoutKeyword.prefix(10))")
    }
}
