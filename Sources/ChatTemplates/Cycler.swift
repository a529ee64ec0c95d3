/// jinja2's `cycler(*items)`: `next()` returns the current item and advances, `current`
/// peeks, `reset()` goes back to the first.
final class Cycler: TemplateObject {
    let items: [Value]
    var position = 0

    init(_ items: [Value]) {
        self.items = items
    }

    var typeName: String { "Cycler" }

    func text() -> String { "<jinja2.utils.Cycler object>" }

    func attribute(_ name: String, renderer: Renderer) throws -> Value? {
        switch name {
        case "current": return items[position]
        case "next":
            return .object(Function("next") { _, _ in
                let item = self.items[self.position]
                self.position = (self.position + 1) % self.items.count
                return item
            })
        case "reset":
            return .object(Function("reset") { _, _ in
                self.position = 0
                return .none
            })
        default: return nil
        }
    }
}
