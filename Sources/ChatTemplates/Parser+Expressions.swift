/// Expressions, by jinja2's precedence (loosest first): `a if b else c`, `or`, `and`, `not`,
/// comparisons and `in`, `+ -`, `~`, `* / // %`, `**`, unary `- +`, then primaries with
/// postfix `.x`, `[i]`, `(...)` and filters `|f` and tests `is t` (which bind tighter than
/// any binary operator: `a + b|f` is `a + (b|f)`).
extension Parser {
    mutating func parseExpression(withCondexpr: Bool = true) throws -> Expression {
        try enterNesting()
        defer { nesting -= 1 }
        return withCondexpr ? try parseCondexpr() : try parseOr()
    }

    mutating func parseCondexpr() throws -> Expression {
        var line = current.line
        var expression = try parseOr()
        while try skip(name: "if") {
            let test = try parseOr()
            let otherwise = try skip(name: "else") ? try parseCondexpr() : nil
            expression = .conditional(test: test, then: expression, otherwise: otherwise, line: line)
            line = current.line
        }
        return expression
    }

    mutating func parseOr() throws -> Expression {
        var left = try parseAnd()
        while try skip(name: "or") {
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> Expression {
        var left = try parseNot()
        while try skip(name: "and") {
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws -> Expression {
        if try skip(name: "not") {
            try enterNesting()
            defer { nesting -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expression {
        let left = try parseMath1()
        var operations: [(op: String, operand: Expression)] = []
        while true {
            if case .op(let text) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(text) {
                try advance()
                operations.append((text, try parseMath1()))
            } else if try skip(name: "in") {
                operations.append(("in", try parseMath1()))
            } else if current.isName("not"), next.isName("in") {
                try advance()
                try advance()
                operations.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : .compare(left, operations)
    }

    mutating func parseMath1() throws -> Expression {
        var left = try parseConcat()
        while case .op(let text) = current.kind, text == "+" || text == "-" {
            try advance()
            left = .binary(text, left, try parseConcat())
        }
        return left
    }

    mutating func parseConcat() throws -> Expression {
        var parts = [try parseMath2()]
        while try skip(operator: "~") {
            parts.append(try parseMath2())
        }
        return parts.count == 1 ? parts[0] : .concat(parts)
    }

    mutating func parseMath2() throws -> Expression {
        var left = try parsePow()
        while case .op(let text) = current.kind, ["*", "/", "//", "%"].contains(text) {
            try advance()
            left = .binary(text, left, try parsePow())
        }
        return left
    }

    mutating func parsePow() throws -> Expression {
        var left = try parseUnary()
        while try skip(operator: "**") {
            left = .binary("**", left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> Expression {
        try enterNesting()
        defer { nesting -= 1 }
        var node: Expression
        if case .op(let text) = current.kind, text == "-" || text == "+" {
            try advance()
            node = .unary(text, try parseUnary(withFilter: false))
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter {
            node = try parseFilterExpression(node)
        }
        return node
    }

    mutating func parsePrimary() throws -> Expression {
        let token = current
        switch token.kind {
        case .name(let name):
            try advance()
            switch name {
            case "true", "True": return .constant(.bool(true))
            case "false", "False": return .constant(.bool(false))
            case "none", "None": return .constant(.none)
            default: return .name(name)
            }
        case .string(let value):
            try advance()
            var text = value
            while case .string(let more) = current.kind {
                text += more
                try advance()
            }
            return .constant(.string(text))
        case .integer(let value):
            try advance()
            return .constant(.int(value))
        case .float(let value):
            try advance()
            return .constant(.double(value))
        case .op("("):
            try advance()
            let expression = try parseTuple(explicitParentheses: true)
            try expect(operator: ")")
            return expression
        case .op("["):
            return try parseList()
        case .op("{"):
            return try parseDictionary()
        default:
            throw fail("unexpected '\(token.description)'", line: token.line)
        }
    }

    /// Comma-separated expressions: a tuple if there is a comma, else the single expression.
    mutating func parseTuple(
        withCondexpr: Bool = true, extraEndRules: [String] = [], explicitParentheses: Bool = false
    ) throws -> Expression {
        var items: [Expression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(operator: ",") }
            if isTupleEnd(extraEndRules) { break }
            items.append(try parseExpression(withCondexpr: withCondexpr))
            if current.isOperator(",") {
                isTuple = true
            } else {
                break
            }
        }
        if !isTuple {
            if let first = items.first { return first }
            if !explicitParentheses {
                throw fail("Expected an expression, got '\(current.description)'")
            }
        }
        return .tuple(items)
    }

    func isTupleEnd(_ extraEndRules: [String]) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .op(")"): return true
        case .name(let name): return extraEndRules.contains(name)
        default: return false
        }
    }

    mutating func parseList() throws -> Expression {
        try expect(operator: "[")
        var items: [Expression] = []
        while !current.isOperator("]") {
            if !items.isEmpty { try expect(operator: ",") }
            if current.isOperator("]") { break }
            items.append(try parseExpression())
        }
        try expect(operator: "]")
        return .list(items)
    }

    mutating func parseDictionary() throws -> Expression {
        try expect(operator: "{")
        var pairs: [(key: Expression, value: Expression)] = []
        while !current.isOperator("}") {
            if !pairs.isEmpty { try expect(operator: ",") }
            if current.isOperator("}") { break }
            let key = try parseExpression()
            try expect(operator: ":")
            pairs.append((key, try parseExpression()))
        }
        try expect(operator: "}")
        return .dictionary(pairs)
    }

    mutating func parsePostfix(_ node: Expression) throws -> Expression {
        var node = node
        while true {
            if current.isOperator(".") || current.isOperator("[") {
                node = try parseSubscript(node)
            } else if current.isOperator("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    mutating func parseFilterExpression(_ node: Expression) throws -> Expression {
        var node = node
        while true {
            if current.isOperator("|") {
                node = try parseFilter(node) ?? node
            } else if current.isName("is") {
                node = try parseTest(node)
            } else if current.isOperator("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript(_ node: Expression) throws -> Expression {
        let token = current
        try advance()
        if token.isOperator(".") {
            let attribute = current
            try advance()
            switch attribute.kind {
            case .name(let name): return .attribute(node, name)
            case .integer(let value): return .item(node, .constant(.int(value)))
            default: throw fail("expected name or number", line: attribute.line)
            }
        }
        var arguments: [Expression] = []
        while !current.isOperator("]") {
            if !arguments.isEmpty { try expect(operator: ",") }
            arguments.append(try parseSubscribed())
        }
        try expect(operator: "]")
        return .item(node, arguments.count == 1 ? arguments[0] : .tuple(arguments))
    }

    mutating func parseSubscribed() throws -> Expression {
        var start: Expression?
        if current.isOperator(":") {
            try advance()
        } else {
            let expression = try parseExpression()
            guard current.isOperator(":") else { return expression }
            try advance()
            start = expression
        }
        var stop: Expression?
        if !current.isOperator(":"), !current.isOperator("]"), !current.isOperator(",") {
            stop = try parseExpression()
        }
        var step: Expression?
        if try skip(operator: ":"), !current.isOperator("]"), !current.isOperator(",") {
            step = try parseExpression()
        }
        return .slice(start: start, stop: stop, step: step)
    }

    mutating func parseCallArguments() throws -> CallArguments {
        let line = current.line
        try expect(operator: "(")
        var arguments = CallArguments()
        var requireComma = false
        func ensure(_ condition: Bool) throws {
            if !condition { throw fail("invalid syntax for function call expression", line: line) }
        }
        while !current.isOperator(")") {
            if requireComma {
                try expect(operator: ",")
                if current.isOperator(")") { break }
            }
            if try skip(operator: "*") {
                try ensure(arguments.starArguments == nil && arguments.starKeywords == nil)
                arguments.starArguments = try parseExpression()
            } else if try skip(operator: "**") {
                try ensure(arguments.starKeywords == nil)
                arguments.starKeywords = try parseExpression()
            } else if case .name(let name) = current.kind, next.isOperator("=") {
                try ensure(arguments.starKeywords == nil)
                try advance()
                try advance()
                arguments.keywords.append((name, try parseExpression()))
            } else {
                try ensure(arguments.starArguments == nil && arguments.starKeywords == nil && arguments.keywords.isEmpty)
                arguments.positional.append(try parseExpression())
            }
            requireComma = true
        }
        try expect(operator: ")")
        return arguments
    }

    /// `|name(args)` filters; with `startInline` the first `|` is implied (the `{% filter %}` tag).
    mutating func parseFilter(_ node: Expression?, startInline: Bool = false) throws -> Expression? {
        var node = node
        var inline = startInline
        while current.isOperator("|") || inline {
            if !inline { try advance() }
            let line = current.line
            var name = try expectName()
            while try skip(operator: ".") {
                name += "." + (try expectName())
            }
            let arguments = current.isOperator("(") ? try parseCallArguments() : CallArguments()
            node = .filter(node, name: name, arguments, line: line)
            inline = false
        }
        return node
    }

    mutating func parseTest(_ node: Expression) throws -> Expression {
        let line = current.line
        try advance()
        let negated = try skip(name: "not")
        var name = try expectName()
        while try skip(operator: ".") {
            name += "." + (try expectName())
        }
        var arguments = CallArguments()
        if current.isOperator("(") {
            arguments = try parseCallArguments()
        } else if startsTestArgument, !current.isName("else"), !current.isName("or"), !current.isName("and") {
            if current.isName("is") { throw fail("You cannot chain multiple tests with is") }
            arguments.positional = [try parsePostfix(try parsePrimary())]
        }
        let test = Expression.test(node, name: name, arguments, line: line)
        return negated ? .not(test) : test
    }

    private var startsTestArgument: Bool {
        switch current.kind {
        case .name, .string, .integer, .float, .op("("), .op("["), .op("{"): return true
        default: return false
        }
    }
}
