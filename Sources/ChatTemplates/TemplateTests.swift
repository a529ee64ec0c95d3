/// jinja2's tests (`x is defined`, `x is divisibleby 3`, `x is equalto y`...), as in its
/// `tests.py`. Note `number` is true for booleans, `sequence` for strings and dicts, and
/// `sameas` is identity, which here holds for `None`, booleans and small integers (the values
/// CPython shares) and for shared objects such as namespaces.
enum TemplateTests {
    typealias Test = @Sendable (Value, Arguments, Renderer) throws -> Bool

    static func isKnown(_ name: String) -> Bool {
        table[name] != nil
    }

    /// Runs test `name`; `byName` is for tests named by a string (`select('odd')`).
    static func apply(
        _ name: String, to value: Value, _ arguments: Arguments, renderer: Renderer, byName: Bool = false
    ) throws -> Bool {
        guard let test = table[name] else {
            throw ChatTemplateError(.syntax, "No test named \(pythonRepr(name))\(byName ? "" : " found").")
        }
        return try test(value, arguments, renderer)
    }

    private static func operand(_ arguments: Arguments, _ test: String) throws -> Value {
        guard let value = try arguments.bind(["other"], function: "test_\(test)")[0] else {
            throw ChatTemplateError(.type, "test_\(test)() missing 1 required positional argument")
        }
        return value
    }

    private static func noArguments(_ test: @escaping @Sendable (Value) throws -> Bool) -> Test {
        { value, arguments, _ in
            _ = try arguments.bind([], function: "test")
            return try test(value)
        }
    }

    private static func comparison(_ op: String) -> Test {
        { value, arguments, renderer in try renderer.compare(op, value, try operand(arguments, op)) }
    }

    private static func remainder(_ value: Value, _ divisor: Value) throws -> Value {
        try Arithmetic.binary("%", value, divisor)
    }

    static let table: [String: Test] = [
        "odd": noArguments { try pythonEqual(try remainder($0, .int(2)), .int(1)) },
        "even": noArguments { try pythonEqual(try remainder($0, .int(2)), .int(0)) },
        "divisibleby": { value, arguments, _ in
            try pythonEqual(try remainder(value, try operand(arguments, "divisibleby")), .int(0))
        },
        "defined": noArguments { !$0.isUndefined },
        "undefined": noArguments { $0.isUndefined },
        "filter": noArguments { value in value.stringPayload.map(Filters.isKnown) ?? false },
        "test": noArguments { value in value.stringPayload.map { table[$0] != nil } ?? false },
        "none": noArguments { $0.isNone },
        "boolean": noArguments { if case .bool = $0 { return true } else { return false } },
        "false": noArguments { if case .bool(false) = $0 { return true } else { return false } },
        "true": noArguments { if case .bool(true) = $0 { return true } else { return false } },
        "integer": noArguments { if case .int = $0 { return true } else { return false } },
        "float": noArguments { if case .double = $0 { return true } else { return false } },
        "number": noArguments { $0.numberPayload != nil },
        "lower": noArguments { PythonText.isLower(try pythonStr($0)) },
        "upper": noArguments { PythonText.isUpper(try pythonStr($0)) },
        "string": noArguments { $0.stringPayload != nil },
        "mapping": noArguments { if case .dict = $0 { return true } else { return false } },
        "sequence": noArguments { value in
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict: return true
            default: return false
            }
        },
        "iterable": noArguments { value in
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict, .iterator: return true
            default: return false
            }
        },
        "callable": noArguments { value in
            guard case .object(let object) = value else { return false }
            return object is Function || object is LoopContext
        },
        "sameas": { value, arguments, _ in
            let other = try operand(arguments, "sameas")
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b && (-5...256).contains(a)
            case (.object(let a), .object(let b)): return a === b
            case (.iterator(let a), .iterator(let b)): return a === b
            default: return false
            }
        },
        "escaped": noArguments { if case .markup = $0 { return true } else { return false } },
        "in": { value, arguments, renderer in try renderer.contains(try operand(arguments, "in"), value) },
        "==": comparison("=="), "eq": comparison("=="), "equalto": comparison("=="),
        "!=": comparison("!="), "ne": comparison("!="),
        ">": comparison(">"), "gt": comparison(">"), "greaterthan": comparison(">"),
        ">=": comparison(">="), "ge": comparison(">="),
        "<": comparison("<"), "lt": comparison("<"), "lessthan": comparison("<"),
        "<=": comparison("<="), "le": comparison("<="),
    ]
}
