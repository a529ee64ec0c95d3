/// The global functions a chat template sees: jinja2's (`range`, `dict`, `namespace`,
/// `cycler`, `joiner`) with the sandbox's limits, and transformers' (`raise_exception`,
/// `strftime_now`, its underscore-refusing `namespace`).
enum Globals {
    /// The sandbox's `MAX_RANGE`.
    static let maximumRange = 100_000

    static func install(into scope: Scope) {
        scope.set("range", function("range", range))
        scope.set("dict", function("dict", dict))
        scope.set("namespace", function("namespace", namespace))
        scope.set("cycler", function("cycler", cycler))
        scope.set("joiner", function("joiner", joiner))
        scope.set("raise_exception", function("raise_exception", raiseException))
        scope.set("strftime_now", function("strftime_now", strftimeNow))
    }

    private static func function(_ name: String, _ body: @escaping (Arguments, Renderer) throws -> Value) -> Value {
        .object(Function(name, typeName: "function", body: body))
    }

    private static func range(_ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        guard arguments.keywords.isEmpty else { throw ChatTemplateError(.type, "range() takes no keyword arguments") }
        let numbers = try arguments.positional.map { value -> Int in
            guard let number = value.integerPayload else {
                throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object cannot be interpreted as an integer")
            }
            return number
        }
        let (start, stop, step): (Int, Int, Int)
        switch numbers.count {
        case 1: (start, stop, step) = (0, numbers[0], 1)
        case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw ChatTemplateError(.type, "range expected at most 3 arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw ChatTemplateError(.value, "range() arg 3 must not be zero") }
        var count: UInt = 0
        if step > 0 ? start < stop : start > stop {
            // The difference of two Ints always fits in a UInt when it is positive.
            let span = step > 0 ? UInt(bitPattern: stop &- start) : UInt(bitPattern: start &- stop)
            count = (span - 1) / step.magnitude + 1
        }
        guard count <= maximumRange else {
            throw ChatTemplateError(.limit, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maximumRange)).")
        }
        return .list((0..<Int(count)).map { .int(start + $0 * step) })
    }

    /// `dict(mapping_or_pairs, **keywords)`.
    private static func dict(_ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        .dict(try dictionary(from: arguments, function: "dict", renderer: renderer))
    }

    private static func dictionary(from arguments: Arguments, function: String, renderer: Renderer) throws -> ValueDictionary {
        guard arguments.positional.count <= 1 else {
            throw ChatTemplateError(.type, "\(function) expected at most 1 argument, got \(arguments.positional.count)")
        }
        var result = ValueDictionary()
        if let source = arguments.positional.first {
            if case .dict(let dictionary) = source {
                result = dictionary
            } else {
                for (position, pair) in try renderer.iterate(source).enumerated() {
                    let items = try renderer.iterate(pair)
                    guard items.count == 2 else {
                        throw ChatTemplateError(
                            .value, "dictionary update sequence element #\(position) has length \(items.count); 2 is required")
                    }
                    try result.set(items[0], items[1])
                }
            }
        }
        for (name, value) in arguments.keywords {
            result.set(name, value)
        }
        return result
    }

    private static func namespace(_ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        let attributes = try dictionary(from: arguments, function: "namespace", renderer: renderer)
        for key in attributes.keys {
            if let name = key.stringPayload { try checkNamespaceName(name) }
        }
        return .object(renderer.makeNamespace(attributes))
    }

    /// transformers refuses namespace attributes starting with `_`.
    static func checkNamespaceName(_ name: String) throws {
        if name.hasPrefix("_") {
            throw ChatTemplateError(
                .security,
                "Chat templates cannot store underscore-prefixed attributes on a namespace, but got \(pythonRepr(name)). Please rename the attribute.")
        }
    }

    private static func cycler(_ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        guard !arguments.positional.isEmpty else { throw ChatTemplateError(.type, "at least one item has to be provided") }
        return .object(Cycler(arguments.positional))
    }

    private static func joiner(_ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        let separator = try arguments.bind(["sep"], function: "joiner")[0] ?? .string(", ")
        final class State { var used = false }
        let state = State()
        return .object(Function("joiner") { _, _ in
            if state.used { return separator }
            state.used = true
            return .string("")
        })
    }

    private static func raiseException(_ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        guard let message = try arguments.bind(["message"], function: "raise_exception")[0] else {
            throw ChatTemplateError(.type, "raise_exception() missing 1 required positional argument: 'message'")
        }
        throw ChatTemplateError(.raised, try pythonStr(message))
    }

    private static func strftimeNow(_ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        guard let format = try arguments.bind(["format"], function: "strftime_now")[0] else {
            throw ChatTemplateError(.type, "strftime_now() missing 1 required positional argument: 'format'")
        }
        guard let text = format.stringPayload else {
            throw ChatTemplateError(.type, "strftime() argument 1 must be str, not \(pythonTypeName(format))")
        }
        return .string(try renderer.time.format(text))
    }
}
