/// Renders a parsed template once: runs the statements, evaluates expressions with Python
/// semantics and writes the output. One renderer per render call; it bounds loop iterations,
/// macro recursion and output size so that no template can hang or exhaust memory.
final class Renderer {
    enum Flow {
        case normal, breakLoop, continueLoop
    }

    let time: TemplateTime
    let limits: RenderLimits
    private var output = ""
    private var iterations = 0
    private var callDepth = 0
    /// Scopes that macros close over (macros hold them weakly, to avoid reference cycles).
    private var retainedScopes: [Scope] = []
    /// Namespaces made during the render, emptied at the end to break any cycles through them.
    private var namespaces: [Namespace] = []

    init(time: TemplateTime, limits: RenderLimits) {
        self.time = time
        self.limits = limits
    }

    func render(_ nodes: [Node], context: [String: Value]) throws -> String {
        let globals = Scope(parent: nil)
        Globals.install(into: globals)
        let root = Scope(parent: globals)
        for (name, value) in context {
            root.set(name, value)
        }
        retainedScopes += [globals, root]
        defer {
            for scope in retainedScopes { scope.clear() }
            for namespace in namespaces { namespace.attributes = ValueDictionary() }
        }
        _ = try execute(nodes, in: root)
        return output
    }

    // MARK: - Bookkeeping

    func write(_ text: String) throws {
        output += text
        if output.utf8.count > limits.outputBytes {
            throw ChatTemplateError(.limit, "output larger than \(limits.outputBytes) bytes")
        }
    }

    /// Renders `body` into a separate buffer and returns what it wrote.
    func capture(_ body: () throws -> Void) throws -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    func countIteration() throws {
        iterations += 1
        if iterations > limits.loopIterations {
            throw ChatTemplateError(.limit, "more than \(limits.loopIterations) loop iterations")
        }
    }

    func enterCall() throws {
        callDepth += 1
        if callDepth > limits.callDepth {
            callDepth -= 1
            throw ChatTemplateError(.limit, "maximum recursion depth exceeded (\(limits.callDepth) nested macro calls)")
        }
    }

    func exitCall() {
        callDepth -= 1
    }

    func retain(_ scope: Scope) {
        retainedScopes.append(scope)
    }

    func makeNamespace(_ attributes: ValueDictionary) -> Namespace {
        let namespace = Namespace(attributes)
        namespaces.append(namespace)
        return namespace
    }

    // MARK: - Statements

    func execute(_ nodes: [Node], in scope: Scope) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, in: scope)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    private func execute(_ node: Node, in scope: Scope) throws -> Flow {
        switch node {
        case .text(let text):
            try write(text)
        case .output(let expression, let line):
            try located(line) { try write(pythonStr(try evaluate(expression, in: scope))) }
        case .ifChain(let branches, let otherwise, let line):
            for branch in branches {
                if try located(line, { try evaluate(branch.test, in: scope).isTruthy }) {
                    return try execute(branch.body, in: scope)
                }
            }
            return try execute(otherwise, in: scope)
        case .forLoop(let loop, let line):
            return try located(line) { try runLoop(loop, over: try evaluate(loop.iterable, in: scope), in: scope, depth: 1) }
        case .set(let target, let expression, let line):
            try located(line) { try assign(target, try evaluate(expression, in: scope), in: scope) }
        case .setBlock(let target, let filter, let body, let line):
            let text = try capture { _ = try execute(body, in: Scope(parent: scope)) }
            try located(line) {
                let value = try filter.map { try applyFilters($0, to: .string(text), in: scope) } ?? .string(text)
                try assign(target, value, in: scope)
            }
        case .macro(let definition, _):
            scope.set(definition.name, .object(makeMacro(definition, in: scope)))
        case .callBlock(let caller, let callee, let arguments, let line):
            try located(line) {
                var evaluated = try evaluateArguments(arguments, in: scope)
                evaluated.keywords.append(("caller", .object(makeMacro(caller, in: scope))))
                try write(pythonStr(try self.call(try evaluate(callee, in: scope), evaluated)))
            }
        case .filterBlock(let filter, let body, let line):
            let text = try capture { _ = try execute(body, in: Scope(parent: scope)) }
            try located(line) { try write(pythonStr(try applyFilters(filter, to: .string(text), in: scope))) }
        case .with(let targets, let body, let line):
            let inner = Scope(parent: scope)
            try located(line) {
                let values = try targets.map { try evaluate($0.1, in: scope) }
                for (target, value) in zip(targets.map(\.0), values) {
                    try assign(target, value, in: inner)
                }
            }
            return try execute(body, in: inner)
        case .scoped(let body):
            _ = try execute(body, in: Scope(parent: scope))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Runs `body`, placing any error it throws at `line` unless it already has a line.
    func located<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ChatTemplateError {
            throw error.located(at: line)
        }
    }

    /// Runs a `for` loop; `depth` counts recursive `loop(...)` calls (1 for the outermost).
    func runLoop(_ loop: ForLoop, over iterable: Value, in scope: Scope, depth: Int) throws -> Flow {
        var items = try iterate(iterable)
        if let condition = loop.condition {
            items = try items.filter { item in
                let probe = Scope(parent: scope)
                try assign(loop.target, item, in: probe)
                return try evaluate(condition, in: probe).isTruthy
            }
        }
        let context = LoopContext(items: items, depth: depth)
        if loop.recursive {
            context.recurse = { [unowned self] nested in
                try self.enterCall()
                defer { self.exitCall() }
                return try self.capture { _ = try self.runLoop(loop, over: nested, in: scope, depth: depth + 1) }
            }
        }
        // Like jinja2's compiled loop, `else` runs unless some iteration reached the end of the
        // body: an empty loop, or one whose iterations all ended in `continue` or an early `break`.
        var completedIteration = false
        iterations: for (position, item) in items.enumerated() {
            try countIteration()
            let inner = Scope(parent: scope)
            try assign(loop.target, item, in: inner)
            context.index0 = position
            inner.set("loop", .object(context))
            switch try execute(loop.body, in: inner) {
            case .normal: completedIteration = true
            case .continueLoop: continue
            case .breakLoop: break iterations
            }
        }
        context.recurse = nil
        if !completedIteration {
            return try execute(loop.otherwise, in: Scope(parent: scope))
        }
        return .normal
    }

    func assign(_ target: AssignTarget, _ value: Value, in scope: Scope) throws {
        switch target {
        case .name(let name):
            scope.set(name, value)
        case .tuple(let targets):
            let items = try iterate(value)
            if items.count > targets.count {
                throw ChatTemplateError(.value, "too many values to unpack (expected \(targets.count))")
            }
            if items.count < targets.count {
                throw ChatTemplateError(.value, "not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (item, itemTarget) in zip(items, targets) {
                try assign(itemTarget, item, in: scope)
            }
        case .namespaceAttribute(let name, let attribute):
            guard case .object(let object) = scope.lookup(name) ?? .none, let namespace = object as? Namespace else {
                throw ChatTemplateError(.type, "cannot assign attribute on non-namespace object")
            }
            try Globals.checkNamespaceName(attribute)
            namespace.attributes.set(attribute, value)
        }
    }

    /// A macro (or call-block `caller`) closing over `scope`.
    func makeMacro(_ definition: MacroDefinition, in scope: Scope) -> Function {
        retain(scope)
        return Function(definition.name, typeName: "Macro") { [weak scope] arguments, renderer in
            guard let scope else { throw ChatTemplateError(.value, "macro \(pythonRepr(definition.name)) outlived its render") }
            return try renderer.callMacro(definition, arguments, closingOver: scope)
        }
    }

    private func callMacro(_ definition: MacroDefinition, _ arguments: Arguments, closingOver scope: Scope) throws -> Value {
        try enterCall()
        defer { exitCall() }
        let local = Scope(parent: scope)
        let name = pythonRepr(definition.name)
        var keywords = arguments.keywords
        for (position, parameter) in definition.parameters.enumerated() {
            var value: Value
            if position < arguments.positional.count {
                value = arguments.positional[position]
                if keywords.contains(where: { $0.name == parameter.name }) {
                    throw ChatTemplateError(.type, "macro \(name) got multiple values for argument \(pythonRepr(parameter.name))")
                }
            } else if let index = keywords.firstIndex(where: { $0.name == parameter.name }) {
                value = keywords.remove(at: index).value
            } else if let defaultValue = parameter.defaultValue {
                value = try evaluate(defaultValue, in: local)
            } else {
                value = .undefined(Undefined("parameter \(pythonRepr(parameter.name)) was not provided"))
            }
            local.set(parameter.name, value)
        }
        let extra = Array(arguments.positional.dropFirst(definition.parameters.count))
        if definition.readsVarargs {
            local.set("varargs", .tuple(extra))
        } else if !extra.isEmpty {
            throw ChatTemplateError(.type, "macro \(name) takes not more than \(definition.parameters.count) argument(s)")
        }
        if definition.readsCaller {
            let index = keywords.firstIndex { $0.name == "caller" }
            local.set("caller", index.map { keywords.remove(at: $0).value } ?? .undefined(Undefined("No caller defined")))
        }
        if definition.readsKwargs {
            var dictionary = ValueDictionary()
            for (key, value) in keywords { dictionary.set(key, value) }
            local.set("kwargs", .dict(dictionary))
        } else if let first = keywords.first {
            throw ChatTemplateError(.type, "macro \(name) takes no keyword argument \(pythonRepr(first.name))")
        }
        return .string(try capture { _ = try execute(definition.body, in: local) })
    }
}
