/// Expression evaluation with Python's semantics: `and`/`or` return an operand, comparisons
/// chain, `in` follows each type's containment rules, and undefined values raise when an
/// operation needs a real value.
extension Renderer {
    func evaluate(_ expression: Expression, in scope: Scope) throws -> Value {
        switch expression {
        case .constant(let constant):
            switch constant {
            case .none: return .none
            case .bool(let flag): return .bool(flag)
            case .int(let number): return .int(number)
            case .double(let number): return .double(number)
            case .string(let text): return .string(text)
            }
        case .name(let name):
            return scope.lookup(name) ?? .undefined(.missing(name))
        case .list(let items):
            return .list(try items.map { try evaluate($0, in: scope) })
        case .tuple(let items):
            return .tuple(try items.map { try evaluate($0, in: scope) })
        case .dictionary(let pairs):
            var dictionary = ValueDictionary()
            for pair in pairs {
                try dictionary.set(try evaluate(pair.key, in: scope), try evaluate(pair.value, in: scope))
            }
            return .dict(dictionary)
        case .attribute(let base, let name):
            return try attribute(name, of: try evaluate(base, in: scope))
        case .item(let base, .slice(let start, let stop, let step)):
            let value = try evaluate(base, in: scope)
            let bounds = try [start, stop, step].map { try $0.map { try evaluate($0, in: scope) } }
            return try slice(value, start: bounds[0], stop: bounds[1], step: bounds[2])
        case .item(let base, let index):
            return try item(try evaluate(index, in: scope), of: try evaluate(base, in: scope))
        case .slice:
            throw ChatTemplateError(.unsupported, "a slice outside of a subscript")
        case .call(let callee, let arguments):
            let function = try evaluate(callee, in: scope)
            return try call(function, try evaluateArguments(arguments, in: scope))
        case .filter(let base, let name, let arguments, _):
            guard let base else { throw ChatTemplateError(.syntax, "filter \(pythonRepr(name)) has no value to filter") }
            let value = try evaluate(base, in: scope)
            return try Filters.apply(name, to: value, try evaluateArguments(arguments, in: scope), renderer: self)
        case .test(let base, let name, let arguments, _):
            let value = try evaluate(base, in: scope)
            return .bool(try TemplateTests.apply(name, to: value, try evaluateArguments(arguments, in: scope), renderer: self))
        case .unary(let op, let operand):
            return try Arithmetic.unary(op, try evaluate(operand, in: scope))
        case .binary(let op, let left, let right):
            return try Arithmetic.binary(op, try evaluate(left, in: scope), try evaluate(right, in: scope))
        case .concat(let parts):
            return try Arithmetic.checkSize(.string(try parts.map { try pythonStr(try evaluate($0, in: scope)) }.joined()))
        case .compare(let left, let operations):
            var lhs = try evaluate(left, in: scope)
            for operation in operations {
                let rhs = try evaluate(operation.operand, in: scope)
                if !(try compare(operation.op, lhs, rhs)) { return .bool(false) }
                lhs = rhs
            }
            return .bool(true)
        case .and(let left, let right):
            let lhs = try evaluate(left, in: scope)
            return lhs.isTruthy ? try evaluate(right, in: scope) : lhs
        case .or(let left, let right):
            let lhs = try evaluate(left, in: scope)
            return lhs.isTruthy ? lhs : try evaluate(right, in: scope)
        case .not(let operand):
            return .bool(!(try evaluate(operand, in: scope)).isTruthy)
        case .conditional(let test, let then, let otherwise, let line):
            if try evaluate(test, in: scope).isTruthy {
                return try evaluate(then, in: scope)
            }
            guard let otherwise else {
                return .undefined(Undefined(
                    "the inline if-expression on line \(line) evaluated to false and no else section was defined."))
            }
            return try evaluate(otherwise, in: scope)
        }
    }

    func evaluateArguments(_ arguments: CallArguments, in scope: Scope) throws -> Arguments {
        var result = Arguments()
        result.positional = try arguments.positional.map { try evaluate($0, in: scope) }
        result.keywords = try arguments.keywords.map { ($0.name, try evaluate($0.value, in: scope)) }
        if let star = arguments.starArguments {
            result.positional += try iterate(try evaluate(star, in: scope))
        }
        if let star = arguments.starKeywords {
            guard case .dict(let dictionary) = try evaluate(star, in: scope) else {
                throw ChatTemplateError(.type, "argument after ** must be a mapping")
            }
            for (key, value) in dictionary.entries {
                guard let name = key.stringPayload else { throw ChatTemplateError(.type, "keywords must be strings") }
                result.keywords.append((name, value))
            }
        }
        return result
    }

    /// Applies a filter chain whose innermost filter has no value (`{% filter %}`, block `set`) to `input`.
    func applyFilters(_ chain: Expression, to input: Value, in scope: Scope) throws -> Value {
        guard case .filter(let base, let name, let arguments, _) = chain else { return try evaluate(chain, in: scope) }
        let value = try base.map { try applyFilters($0, to: input, in: scope) } ?? input
        return try Filters.apply(name, to: value, try evaluateArguments(arguments, in: scope), renderer: self)
    }

    func compare(_ op: String, _ lhs: Value, _ rhs: Value) throws -> Bool {
        switch op {
        case "==": return try pythonEqual(lhs, rhs)
        case "!=": return !(try pythonEqual(lhs, rhs))
        case "in": return try contains(rhs, lhs)
        case "not in": return !(try contains(rhs, lhs))
        default: return try pythonCompare(op, lhs, rhs)
        }
    }

    /// Python's `element in container`.
    func contains(_ container: Value, _ element: Value) throws -> Bool {
        switch container {
        case .undefined:
            return false
        case .string(let text), .markup(let text):
            guard let part = element.stringPayload else {
                throw ChatTemplateError(.type, "'in <string>' requires string as left operand, not \(pythonTypeName(element))")
            }
            return PythonText.contains(text, part)
        case .list(let items), .tuple(let items):
            return try items.contains { try pythonEqual($0, element) }
        case .dict(let dictionary):
            return try dictionary.lookup(element) != nil
        case .iterator(let iterator):
            return try iterator.drain().contains { try pythonEqual($0, element) }
        default:
            throw ChatTemplateError(.type, "argument of type \(pythonRepr(pythonTypeName(container))) is not iterable")
        }
    }
}
