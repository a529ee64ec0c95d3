/// Assignment targets of `set`, `for` and `with`: names, tuples of targets, and `ns.attr`.
extension Parser {
    /// A `set`/`for`/`with` target: a name, a tuple of targets, or (with `withNamespace`) `ns.attr`.
    mutating func parseAssignTarget(extraEndRules: [String] = [], withNamespace: Bool = false) throws -> AssignTarget {
        var items: [AssignTarget] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(operator: ",") }
            if isTupleEnd(extraEndRules) { break }
            items.append(try parseTargetPrimary(withNamespace: withNamespace))
            if current.isOperator(",") {
                isTuple = true
            } else {
                break
            }
        }
        if !isTuple {
            guard let first = items.first else { throw fail("Expected an expression, got '\(current.description)'") }
            return first
        }
        return .tuple(items)
    }

    mutating func parseTargetPrimary(withNamespace: Bool) throws -> AssignTarget {
        let token = current
        if case .name(let name) = token.kind, !["true", "True", "false", "False", "none", "None"].contains(name) {
            try advance()
            if withNamespace, try skip(operator: ".") {
                return .namespaceAttribute(namespace: name, attribute: try expectName())
            }
            return .name(name)
        }
        return try Self.assignTarget(from: try parsePrimary(), line: token.line)
    }

    static func assignTarget(from expression: Expression, line: Int) throws -> AssignTarget {
        switch expression {
        case .name(let name): return .name(name)
        case .tuple(let items): return .tuple(try items.map { try assignTarget(from: $0, line: line) })
        case .constant: throw ChatTemplateError(.syntax, "can't assign to 'const'", line: line)
        case .list: throw ChatTemplateError(.syntax, "can't assign to 'list'", line: line)
        case .dictionary: throw ChatTemplateError(.syntax, "can't assign to 'dict'", line: line)
        default: throw ChatTemplateError(.syntax, "can't assign to this expression", line: line)
        }
    }
}
