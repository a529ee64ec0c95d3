/// A value while a template renders: the Python objects jinja2 works with. Lists, tuples and
/// dicts are values (the immutable sandbox never mutates them in place); namespaces, loops,
/// iterators and callables are shared references, as in Python.
enum Value {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// markupsafe's `Markup`: a string already escaped for HTML (from `safe`/`escape`).
    case markup(String)
    case list([Value])
    case tuple([Value])
    case dict(ValueDictionary)
    /// A one-pass iterator: what `select`, `map`, `reverse`, `items`... return in jinja2.
    case iterator(ValueIterator)
    case object(any TemplateObject)
}

/// jinja2's default `Undefined`: prints as nothing, is false, iterates as empty, and raises
/// `message` when used for anything else.
struct Undefined {
    let message: String
    /// The sandbox's stand-in for a forbidden attribute: using it is a security error.
    var isUnsafe = false

    init(_ message: String, isUnsafe: Bool = false) {
        self.message = message
        self.isUnsafe = isUnsafe
    }

    /// For a missing variable: `'name' is undefined`.
    static func missing(_ name: String) -> Undefined {
        Undefined("\(pythonRepr(name)) is undefined")
    }

    var error: ChatTemplateError {
        ChatTemplateError(isUnsafe ? .security : .undefined, message)
    }
}

/// A Python object the template can hold: namespaces, loop contexts, macros, methods.
protocol TemplateObject: AnyObject {
    /// The Python type name, for error messages ("Namespace", "LoopContext", ...).
    var typeName: String { get }
    /// What `str()` gives.
    func text() throws -> String
    /// The attribute `name`, or nil when there is none (then the template gets an undefined).
    func attribute(_ name: String, renderer: Renderer) throws -> Value?
    /// Calls the object; nil when it is not callable.
    func call(_ arguments: Arguments, renderer: Renderer) throws -> Value?
}

extension TemplateObject {
    func attribute(_ name: String, renderer: Renderer) throws -> Value? { nil }
    func call(_ arguments: Arguments, renderer: Renderer) throws -> Value? { nil }
}

/// A single-pass iterator, shared by reference: iterating it a second time gives nothing, as
/// with a Python generator.
final class ValueIterator {
    let typeName: String
    private var items: [Value]
    private var position = 0

    init(_ items: [Value], typeName: String = "generator") {
        self.items = items
        self.typeName = typeName
    }

    /// The items not consumed yet; consumes them.
    func drain() -> [Value] {
        defer { position = items.count }
        return Array(items[position...])
    }
}

/// A callable: a built-in function, a bound method, a macro or a `caller`.
final class Function: TemplateObject {
    let name: String
    let typeName: String
    let body: (Arguments, Renderer) throws -> Value

    init(_ name: String, typeName: String = "builtin_function_or_method", body: @escaping (Arguments, Renderer) throws -> Value) {
        self.name = name
        self.typeName = typeName
        self.body = body
    }

    func text() -> String {
        typeName == "Macro" ? "<Macro \(pythonRepr(name))>" : "<built-in function \(name)>"
    }

    func call(_ arguments: Arguments, renderer: Renderer) throws -> Value? {
        try body(arguments, renderer)
    }
}

/// What `namespace(...)` makes: attributes that `{% set ns.x = ... %}` can change from any scope.
final class Namespace: TemplateObject {
    var attributes: ValueDictionary

    init(_ attributes: ValueDictionary) {
        self.attributes = attributes
    }

    var typeName: String { "TemplateNamespace" }

    func text() throws -> String { "<Namespace \(try pythonRepr(.dict(attributes)))>" }

    func attribute(_ name: String, renderer: Renderer) throws -> Value? {
        attributes[.string(name)]
    }
}

/// A call's arguments after evaluation.
struct Arguments {
    var positional: [Value] = []
    var keywords: [(name: String, value: Value)] = []

    var isEmpty: Bool { positional.isEmpty && keywords.isEmpty }

    /// Binds the arguments to Python-style parameters `names` of `function`: positional first,
    /// then keywords by name. Parameters not given are nil. Too many or unknown arguments throw
    /// Python's `TypeError`.
    func bind(_ names: [String], function: String) throws -> [Value?] {
        guard positional.count <= names.count else {
            throw ChatTemplateError(.type, "\(function)() takes at most \(names.count) argument\(names.count == 1 ? "" : "s") (\(positional.count) given)")
        }
        var bound: [Value?] = positional.map { $0 }
        bound += Array(repeating: nil, count: names.count - positional.count)
        for (name, value) in keywords {
            guard let index = names.firstIndex(of: name) else {
                throw ChatTemplateError(.type, "\(function)() got an unexpected keyword argument \(pythonRepr(name))")
            }
            guard bound[index] == nil else {
                throw ChatTemplateError(.type, "\(function)() got multiple values for argument \(pythonRepr(name))")
            }
            bound[index] = value
        }
        return bound
    }
}
