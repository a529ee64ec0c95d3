/// JSON as tokenizer files need it: objects keep their members in order, with their keys exactly
/// as written. (Swift's `String`-keyed dictionaries, which JSONSerialization produces, merge
/// canonically equivalent keys such as "é" and "e\u{301}": two distinct tokens of a vocabulary.)
indirect enum TokenizerJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([TokenizerJSON])
    case object([Member])

    struct Member: Equatable, Sendable {
        var key: String
        var value: TokenizerJSON

        static func == (lhs: Member, rhs: Member) -> Bool {
            lhs.key.utf8.elementsEqual(rhs.key.utf8) && lhs.value == rhs.value
        }
    }

    /// Parses a UTF-8 JSON document; `source` names it in errors.
    init(parsing bytes: [UInt8], source: String) throws {
        var parser = Parser(bytes: bytes, source: source)
        self = try parser.document()
    }

    /// The value of `key` in an object (the last one if repeated); nil if absent or not an object.
    subscript(key: String) -> TokenizerJSON? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    var members: [Member]? { if case .object(let members) = self { members } else { nil } }
    var array: [TokenizerJSON]? { if case .array(let elements) = self { elements } else { nil } }
    var string: String? { if case .string(let text) = self { text } else { nil } }
    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    /// A whole number that fits `Int`.
    var int: Int? {
        guard case .number(let value) = self, value.rounded() == value else { return nil }
        return Int(exactly: value)
    }

    /// The document as compact JSON text.
    var serialized: String {
        var output = ""
        write(to: &output)
        return output
    }

    private func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let value): output += value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(member.key, to: &output)
                output += ":"
                member.value.write(to: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ text: String, to output: inout String) {
        var scalars = String.UnicodeScalarView()
        scalars.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": scalars.append(contentsOf: #"\""#.unicodeScalars)
            case "\\": scalars.append(contentsOf: #"\\"#.unicodeScalars)
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                scalars.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            default: scalars.append(scalar)
            }
        }
        scalars.append("\"")
        output += String(scalars)
    }

    private struct Parser {
        let bytes: [UInt8]
        let source: String
        var index = 0
        var depth = 0

        init(bytes: [UInt8], source: String) {
            self.bytes = bytes
            self.source = source
        }

        mutating func document() throws -> TokenizerJSON {
            let value = try parseValue()
            skipWhitespace()
            guard index == bytes.count else { throw failure("unexpected text after the JSON value") }
            return value
        }

        private mutating func parseValue() throws -> TokenizerJSON {
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of the document") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: return .number(try parseNumber())
            }
        }

        private mutating func parseObject() throws -> TokenizerJSON {
            try enter()
            var members: [Member] = []
            skipWhitespace()
            if peek(UInt8(ascii: "}")) { return leave(.object(members)) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard peek(UInt8(ascii: ":")) else { throw failure("expected ':'") }
                members.append(Member(key: key, value: try parseValue()))
                skipWhitespace()
                if peek(UInt8(ascii: ",")) { continue }
                guard peek(UInt8(ascii: "}")) else { throw failure("expected ',' or '}'") }
                return leave(.object(members))
            }
        }

        private mutating func parseArray() throws -> TokenizerJSON {
            try enter()
            var elements: [TokenizerJSON] = []
            skipWhitespace()
            if peek(UInt8(ascii: "]")) { return leave(.array(elements)) }
            while true {
                elements.append(try parseValue())
                skipWhitespace()
                if peek(UInt8(ascii: ",")) { continue }
                guard peek(UInt8(ascii: "]")) else { throw failure("expected ',' or ']'") }
                return leave(.array(elements))
            }
        }

        private mutating func parseString() throws -> String {
            index += 1
            var utf8: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    try parseEscape(into: &utf8)
                default:
                    utf8.append(byte)
                }
            }
            throw failure("unterminated string")
        }

        private mutating func parseEscape(into utf8: inout [UInt8]) throws {
            guard index < bytes.count else { throw failure("unterminated escape") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var value = UInt32(try parseHex4())
                if (0xD800..<0xDC00).contains(value), bytes[index...].starts(with: Array("\\u".utf8)) {
                    index += 2
                    let low = UInt32(try parseHex4())
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate escape") }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(value) else { throw failure("escape of a lone surrogate") }
                utf8.append(contentsOf: UTF8.encode(scalar)!)
            default:
                throw failure("invalid escape")
            }
        }

        private mutating func parseHex4() throws -> UInt16 {
            guard index + 4 <= bytes.count,
                let value = UInt16(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
            else { throw failure("invalid \\u escape") }
            index += 4
            return value
        }

        private mutating func parseNumber() throws -> Double {
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                    UInt8(ascii: "e"), UInt8(ascii: "E"):
                    index += 1
                default:
                    return try number(from: start)
                }
            }
            return try number(from: start)
        }

        private func number(from start: Int) throws -> Double {
            guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
                throw failure("invalid value")
            }
            return value
        }

        private mutating func expect(_ literal: String) throws {
            guard bytes[index...].starts(with: literal.utf8) else { throw failure("invalid value") }
            index += literal.utf8.count
        }

        private mutating func enter() throws {
            index += 1
            depth += 1
            guard depth <= 512 else { throw failure("nesting deeper than 512 levels") }
        }

        private mutating func leave(_ value: TokenizerJSON) -> TokenizerJSON {
            depth -= 1
            return value
        }

        /// Consumes `byte` if it is next.
        private mutating func peek(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        private func failure(_ reason: String) -> TokenizerError {
            .malformed(source: source, reason: "\(reason) at byte \(index)")
        }
    }
}
