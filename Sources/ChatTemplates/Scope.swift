/// A frame of variables. Loop iterations, macro calls and block bodies get a child scope, so
/// that a `set` inside them does not leak out, as in jinja2 (that is what `namespace()` is for);
/// an `if` body shares its enclosing scope.
final class Scope {
    private var variables: [String: Value] = [:]
    let parent: Scope?

    init(parent: Scope?) {
        self.parent = parent
    }

    /// The innermost binding of `name`.
    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }

    func set(_ name: String, _ value: Value) {
        variables[name] = value
    }

    /// Drops every binding; used at the end of a render to break reference cycles.
    func clear() {
        variables.removeAll()
    }
}
