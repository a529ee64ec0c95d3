/// The `loop` variable inside a `for` body: position, neighbours, `cycle()`, `changed()`, and
/// for `recursive` loops `loop(children)`, which renders the body again one level deeper.
final class LoopContext: TemplateObject {
    let items: [Value]
    let depth: Int
    var index0 = 0
    var recurse: ((Value) throws -> String)?
    private var lastChanged: [Value]?

    init(items: [Value], depth: Int) {
        self.items = items
        self.depth = depth
    }

    var typeName: String { "LoopContext" }

    func text() -> String { "<LoopContext \(index0 + 1)/\(items.count)>" }

    func attribute(_ name: String, renderer: Renderer) throws -> Value? {
        let length = items.count
        switch name {
        case "index0": return .int(index0)
        case "index": return .int(index0 + 1)
        case "revindex": return .int(length - index0)
        case "revindex0": return .int(length - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == length - 1)
        case "length": return .int(length)
        case "depth": return .int(depth)
        case "depth0": return .int(depth - 1)
        case "previtem":
            return index0 > 0 ? items[index0 - 1] : .undefined(Undefined("there is no previous item"))
        case "nextitem":
            return index0 + 1 < length ? items[index0 + 1] : .undefined(Undefined("there is no next item"))
        case "cycle":
            return .object(Function("cycle") { arguments, _ in
                guard !arguments.positional.isEmpty else {
                    throw ChatTemplateError(.type, "no items for cycling given")
                }
                return arguments.positional[self.index0 % arguments.positional.count]
            })
        case "changed":
            return .object(Function("changed") { arguments, _ in
                if let last = self.lastChanged, try pythonEqual(.tuple(last), .tuple(arguments.positional)) {
                    return .bool(false)
                }
                self.lastChanged = arguments.positional
                return .bool(true)
            })
        default:
            return nil
        }
    }

    func call(_ arguments: Arguments, renderer: Renderer) throws -> Value? {
        guard let recurse else {
            throw ChatTemplateError(.type, "The loop must have the 'recursive' marker to be called recursively.")
        }
        guard arguments.positional.count == 1, arguments.keywords.isEmpty else {
            throw ChatTemplateError(.type, "loop() takes exactly one argument, the items to loop over")
        }
        return .string(try recurse(arguments.positional[0]))
    }
}
