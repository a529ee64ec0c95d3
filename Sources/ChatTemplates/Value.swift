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
