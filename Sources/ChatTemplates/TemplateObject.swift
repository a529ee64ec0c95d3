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
