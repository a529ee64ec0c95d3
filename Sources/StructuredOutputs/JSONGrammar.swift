/// The JSON building blocks shared by every schema: whitespace, strings, numbers, any value.
extension GrammarBuilder {
    /// Whitespace between tokens: nothing (compact), or up to `JSONWhitespace.flexibleLimit`
    /// spaces, tabs and newlines.
    mutating func whitespace(_ style: JSONWhitespace) -> [Item] {
        guard style == .flexible else { return [] }
        let id = memoized("ws") { builder in
            var set = ByteClass.byte(0x20)
            set.insert(0x0A)
            set.insert(0x09)
            set.insert(0x0D)
            let chain = builder.repeated(.bytes(set), min: 0, max: JSONWhitespace.flexibleLimit, name: "ws")
            return builder.rule("ws", [chain])
        }
        return [.rule(id)]
    }

    /// One character inside a JSON string, as written: anything but `"`, `\` and control
    /// characters, or an escape.
    mutating func jsonStringCharacter() -> Item {
        .rule(memoized("string char") { builder in
            let plain = builder.characterClass(UTF8Classes.complement([0...0x1F, 0x22...0x22, 0x5C...0x5C]), name: "char")
            var escaped = ByteClass()
            for byte in Array("\"\\/bfnrt".utf8) { escaped.insert(byte) }
            var hex = ByteClass(0x30...0x39)
            for byte in UInt8(ascii: "a")...UInt8(ascii: "f") { hex.insert(byte) }
            for byte in UInt8(ascii: "A")...UInt8(ascii: "F") { hex.insert(byte) }
            let backslash = Item.bytes(.byte(0x5C))
            return builder.rule("string char", [
                [plain],
                [backslash, .bytes(escaped)],
                [backslash, .bytes(.byte(UInt8(ascii: "u"))), .bytes(hex), .bytes(hex), .bytes(hex), .bytes(hex)],
            ])
        })
    }

    /// A JSON string of `min` to `max` characters (nil: unbounded).
    mutating func jsonString(minLength: Int = 0, maxLength: Int? = nil) -> Item {
        .rule(memoized("string \(minLength) \(maxLength ?? -1)") { builder in
            let character = builder.jsonStringCharacter()
            let body = builder.repeated(character, min: minLength, max: maxLength, name: "chars")
            let quote = Item.bytes(.byte(0x22))
            return builder.rule("string", [[quote] + body + [quote]])
        })
    }

    /// Digits 0-9.
    static var digit: Item { .bytes(ByteClass(0x30...0x39)) }

    /// The longest integer part generated where a schema sets no bound (so that a model cannot
    /// write digits forever).
    static let maxDigits = 16

    /// A JSON number (any), with at most `maxDigits` digits in each part.
    mutating func jsonNumber(integer: Bool) -> Item {
        .rule(memoized(integer ? "integer" : "number") { builder in
            let minus = builder.repeated(.bytes(.byte(UInt8(ascii: "-"))), min: 0, max: 1, name: "sign")
            let nonZero = Item.bytes(ByteClass(0x31...0x39))
            let rest = builder.repeated(Self.digit, min: 0, max: Self.maxDigits - 1, name: "digits")
            let integerPart = builder.rule("int", [[.bytes(.byte(0x30))], [nonZero] + rest])
            guard !integer else { return builder.rule("integer", [minus + [.rule(integerPart)]]) }
            let fractionDigits = builder.repeated(Self.digit, min: 1, max: Self.maxDigits, name: "fraction")
            let fraction = builder.rule("frac", [[], [.bytes(.byte(UInt8(ascii: ".")))] + fractionDigits])
            var e = ByteClass.byte(UInt8(ascii: "e"))
            e.insert(UInt8(ascii: "E"))
            var sign = ByteClass.byte(UInt8(ascii: "+"))
            sign.insert(UInt8(ascii: "-"))
            let exponentSign = builder.repeated(.bytes(sign), min: 0, max: 1, name: "exp sign")
            let exponentDigits = builder.repeated(Self.digit, min: 1, max: 3, name: "exp digits")
            let exponent = builder.rule("exp", [[], [.bytes(e)] + exponentSign + exponentDigits])
            return builder.rule("number", [minus + [.rule(integerPart), .rule(fraction), .rule(exponent)]])
        })
    }

    /// Any JSON value (a schema of `true` or `{}`), nesting allowed.
    mutating func anyJSONValue(_ style: JSONWhitespace) -> Item {
        if let id = memoizedID("any value") { return .rule(id) }
        let value = declare("value")
        setMemo("any value", value)
        let ws = whitespace(style)
        let string = jsonString()
        let member = [string] + ws + Self.literal(":") + ws + [.rule(value)]
        let moreMembers = repeated(.rule(rule("member,", [ws + Self.literal(",") + ws + member])), min: 0, max: nil,
                                   name: "members")
        let object = rule("object", [Self.literal("{") + ws + Self.literal("}"),
                                     Self.literal("{") + ws + member + moreMembers + ws + Self.literal("}")])
        let moreElements = repeated(.rule(rule("element,", [ws + Self.literal(",") + ws + [.rule(value)]])), min: 0,
                                    max: nil, name: "elements")
        let array = rule("array", [Self.literal("[") + ws + Self.literal("]"),
                                   Self.literal("[") + ws + [.rule(value)] + moreElements + ws + Self.literal("]")])
        define(value, [[.rule(object)], [.rule(array)], [string], [jsonNumber(integer: false)],
                       Self.literal("true"), Self.literal("false"), Self.literal("null")])
        return .rule(value)
    }
}
