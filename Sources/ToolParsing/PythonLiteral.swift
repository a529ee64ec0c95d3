import OrderedJSON

/// Reads a Python list of calls with keyword arguments, `[get_weather(city="SF", days=3),
/// other(x=[1, 2])]`, turning each argument's literal into JSON: strings (single, double or
/// triple quoted, with escapes), integers and floats, `True`, `False`, `None`, lists and tuples
/// (as arrays) and dicts with string keys (as objects).
struct PythonLiteral {
    private let bytes: [UInt8]
    private var offset: Int

    /// The calls in `bytes`, or nil unless the whole text is a non-empty list of calls.
    static func calls(in bytes: some Collection<UInt8>) -> [ParsedToolCall]? {
        var reader = PythonLiteral(bytes: Array(bytes), offset: 0)
        guard let calls = reader.callList(), reader.atEnd else { return nil }
        return calls
    }

    private var atEnd: Bool {
        mutating get {
            skipWhitespace()
            return offset == bytes.count
        }
    }

    private mutating func callList() -> [ParsedToolCall]? {
        guard consume("[") else { return nil }
        var calls: [ParsedToolCall] = []
        repeat {
            if peek("]") { break }
            guard let call = call() else { return nil }
            calls.append(call)
        } while consume(",")
        guard consume("]"), !calls.isEmpty else { return nil }
        return calls
    }

    private mutating func call() -> ParsedToolCall? {
        guard var name = identifier() else { return nil }
        while consume(".") {
            guard let part = identifier() else { return nil }
            name += "." + part
        }
        guard consume("(") else { return nil }
        var arguments: [(String, JSON)] = []
        repeat {
            if peek(")") { break }
            guard let key = identifier(), consume("="), let value = value() else { return nil }
            arguments.append((key, value))
        } while consume(",")
        guard consume(")") else { return nil }
        return ParsedToolCall(name: name, arguments: JSON.object(JSONObject(arguments)).serialized())
    }

    private mutating func value() -> JSON? {
        skipWhitespace()
        guard offset < bytes.count else { return nil }
        switch bytes[offset] {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return string().map(JSON.string)
        case UInt8(ascii: "["):
            return sequence(closing: "]")
        case UInt8(ascii: "("):
            return sequence(closing: ")")
        case UInt8(ascii: "{"):
            return dictionary()
        default:
            break
        }
        if let word = identifier() {
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            default: return nil
            }
        }
        return number()
    }

    private mutating func sequence(closing: Character) -> JSON? {
        offset += 1
        var elements: [JSON] = []
        repeat {
            if peek(closing) { break }
            guard let element = value() else { return nil }
            elements.append(element)
        } while consume(",")
        return consume(closing) ? .array(elements) : nil
    }

    private mutating func dictionary() -> JSON? {
        offset += 1
        var members: [(String, JSON)] = []
        repeat {
            if peek("}") { break }
            guard case .string(let key)? = value(), consume(":"), let value = value() else { return nil }
            members.append((key, value))
        } while consume(",")
        return consume("}") ? .object(JSONObject(members)) : nil
    }

    /// A number literal made JSON: `+1` → `1`, `1_000` → `1000`, `.5` → `0.5`, `2.` → `2.0`.
    private mutating func number() -> JSON? {
        var text = ""
        while offset < bytes.count {
            let byte = bytes[offset]
            let isSign = byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            let afterExponent = text.last == "e" || text.last == "E"
            guard (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "_")
                || (isSign && (text.isEmpty || afterExponent)) else { break }
            if byte != UInt8(ascii: "_") { text.append(Character(Unicode.Scalar(byte))) }
            offset += 1
        }
        if text.hasPrefix("+") { text.removeFirst() }
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        var json = negative ? "-" : ""
        var previous: Character?
        for character in text {
            if previous == "." || previous == nil, !character.isNumber { json += "0" }
            json.append(character)
            previous = character
        }
        if previous == "." { json += "0" }
        return JSONNumber(json).map(JSON.number)
    }

    /// A quoted string with Python's escapes.
    private mutating func string() -> String? {
        let quote = bytes[offset]
        let triple = offset + 2 < bytes.count && bytes[offset + 1] == quote && bytes[offset + 2] == quote
        let width = triple ? 3 : 1
        offset += width
        var text: [UInt8] = []
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == quote, !triple || (offset + 2 < bytes.count && bytes[offset + 1] == quote && bytes[offset + 2] == quote) {
                offset += width
                return Markup.text(text)
            }
            offset += 1
            guard byte == UInt8(ascii: "\\"), offset < bytes.count else {
                text.append(byte)
                continue
            }
            let escape = bytes[offset]
            offset += 1
            switch escape {
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "0"): text.append(0x00)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let digits = escape == UInt8(ascii: "x") ? 2 : escape == UInt8(ascii: "u") ? 4 : 8
                guard offset + digits <= bytes.count,
                      let value = UInt32(Markup.text(bytes[offset..<(offset + digits)]), radix: 16),
                      let scalar = Unicode.Scalar(value) else { return nil }
                text += Array(String(Character(scalar)).utf8)
                offset += digits
            case UInt8(ascii: "\n"): break
            default: text.append(escape)
            }
        }
        return nil
    }

    private mutating func identifier() -> String? {
        skipWhitespace()
        let start = offset
        while offset < bytes.count {
            let byte = bytes[offset]
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            guard isLetter || (isDigit && offset > start) else { break }
            offset += 1
        }
        return offset > start ? Markup.text(bytes[start..<offset]) : nil
    }

    private mutating func peek(_ character: Character) -> Bool {
        skipWhitespace()
        return offset < bytes.count && bytes[offset] == character.asciiValue
    }

    private mutating func consume(_ character: Character) -> Bool {
        guard peek(character) else { return false }
        offset += 1
        return true
    }

    private mutating func skipWhitespace() {
        offset = Markup.skipWhitespace(bytes, from: offset)
    }
}
