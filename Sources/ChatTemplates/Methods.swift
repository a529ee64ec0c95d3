/// Python methods of `str`, `list`, `tuple` and `dict` that templates call (`s.strip()`,
/// `d.items()`, `d.get(k)`...). Names of methods that mutate (`append`, `update`...) resolve to
/// the sandbox's forbidden-attribute undefined; `dict.items()`, `keys()` and `values()` give
/// lists (of tuples for `items`).
enum Methods {
    static let dictionaryMethods: Set<String> = [
        "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values",
    ]
    static let unsafeDictionaryMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]
    static let listMethods: Set<String> = [
        "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort",
    ]
    static let unsafeListMethods: Set<String> = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"]
    static let tupleMethods: Set<String> = ["count", "index"]
    static let stringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
        "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
        "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans",
        "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit",
        "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
    ]

    /// The bound method `name` of `value`, or nil when its type has no such method.
    static func method(_ name: String, of value: Value) throws -> Value? {
        let isUnsafe: Bool
        switch value {
        case .dict:
            guard dictionaryMethods.contains(name) else { return nil }
            isUnsafe = unsafeDictionaryMethods.contains(name)
        case .list:
            guard listMethods.contains(name) else { return nil }
            isUnsafe = unsafeListMethods.contains(name)
        case .tuple:
            guard tupleMethods.contains(name) else { return nil }
            isUnsafe = false
        case .string, .markup:
            guard stringMethods.contains(name) else { return nil }
            isUnsafe = false
        default:
            return nil
        }
        if isUnsafe {
            return .undefined(Undefined(
                "access to attribute \(pythonRepr(name)) of \(pythonRepr(pythonTypeName(value))) object is unsafe.", isUnsafe: true))
        }
        return .object(Function(name) { arguments, renderer in
            try call(name, on: value, arguments, renderer: renderer)
        })
    }

    private static func call(_ name: String, on value: Value, _ arguments: Arguments, renderer: Renderer) throws -> Value {
        switch value {
        case .string(let text): return try StringMethods.call(name, on: text, arguments, renderer: renderer)
        case .markup(let text): return try StringMethods.call(name, on: text, arguments, renderer: renderer)
        case .dict(let dictionary): return try callDictionary(name, dictionary, arguments, renderer: renderer)
        case .list(let items), .tuple(let items): return try callSequence(name, items, value, arguments)
        default: throw ChatTemplateError(.type, "\(pythonTypeName(value)) has no method \(pythonRepr(name))")
        }
    }

    private static func callDictionary(
        _ name: String, _ dictionary: ValueDictionary, _ arguments: Arguments, renderer: Renderer
    ) throws -> Value {
        let qualified = "dict.\(name)"
        switch name {
        case "get":
            let bound = try arguments.bind(["key", "default"], function: qualified)
            guard let key = bound[0] else { throw missingArgument(qualified, "key") }
            return try dictionary.lookup(key) ?? bound[1] ?? .none
        case "items":
            _ = try arguments.bind([], function: qualified)
            return .list(dictionary.entries.map { .tuple([$0, $1]) })
        case "keys":
            _ = try arguments.bind([], function: qualified)
            return .list(dictionary.keys)
        case "values":
            _ = try arguments.bind([], function: qualified)
            return .list(dictionary.values)
        case "copy":
            _ = try arguments.bind([], function: qualified)
            return .dict(dictionary)
        default:
            let bound = try arguments.bind(["iterable", "value"], function: qualified)
            guard let source = bound[0] else { throw missingArgument(qualified, "iterable") }
            var result = ValueDictionary()
            for key in try renderer.iterate(source) { try result.set(key, bound[1] ?? .none) }
            return .dict(result)
        }
    }

    private static func callSequence(_ name: String, _ items: [Value], _ value: Value, _ arguments: Arguments) throws -> Value {
        let kind = pythonTypeName(value)
        let qualified = "\(kind).\(name)"
        switch name {
        case "count":
            let bound = try arguments.bind(["value"], function: qualified)
            guard let target = bound[0] else { throw missingArgument(qualified, "value") }
            return .int(try items.filter { try pythonEqual($0, target) }.count)
        case "index":
            let bound = try arguments.bind(["value", "start", "stop"], function: qualified)
            guard let target = bound[0] else { throw missingArgument(qualified, "value") }
            let indices = Renderer.sliceIndices(
                count: items.count, start: bound[1]?.integerPayload, stop: bound[2]?.integerPayload, step: 1)
            for index in indices where try pythonEqual(items[index], target) {
                return .int(index)
            }
            let message = kind == "list" ? "\(try pythonRepr(target)) is not in list" : "tuple.index(x): x not in tuple"
            throw ChatTemplateError(.value, message)
        default:
            _ = try arguments.bind([], function: qualified)
            return value
        }
    }

    static func missingArgument(_ function: String, _ name: String) -> ChatTemplateError {
        ChatTemplateError(.type, "\(function)() missing required argument \(pythonRepr(name))")
    }
}
