/// Builds the node tree from tokens, following jinja2's parser rule for rule (statement
/// bodies, end tags, assignment targets, expression precedence) so that every template jinja2
/// accepts parses the same way, and malformed ones fail with jinja2's message and line.
struct Parser {
    var tokens: [Token]
    var index = 0
    /// Tags whose end tag has not been seen yet, innermost last (for end-of-template messages).
    var tagStack: [String] = []
    var endTokenStack: [[String]] = []
    /// Loops enclosing the current statement within the current macro or call body.
    var loopDepth = 0
    /// Current recursion depth of expression and statement parsing.
    var nesting = 0
    static let maximumNesting = 200

    static func parse(_ source: String) throws -> [Node] {
        var parser = Parser(tokens: Lexer.tokenize(source))
        if case .lexError(let error) = parser.current.kind { throw error }
        return try parser.subparse(endTokens: nil)
    }

    init(tokens: [Token]) {
        self.tokens = tokens
    }

    var current: Token { tokens[index] }

    var next: Token { tokens[min(index + 1, tokens.count - 1)] }

    mutating func advance() throws {
        if index < tokens.count - 1 { index += 1 }
        if case .lexError(let error) = tokens[index].kind { throw error }
    }

    func fail(_ message: String, line: Int? = nil) -> ChatTemplateError {
        ChatTemplateError(.syntax, message, line: line ?? current.line)
    }

    mutating func enterNesting() throws {
        nesting += 1
        if nesting > Self.maximumNesting {
            throw ChatTemplateError(.limit, "template nested more than \(Self.maximumNesting) levels deep", line: current.line)
        }
    }

    /// Consumes the current token if it is the operator `text`.
    mutating func skip(operator text: String) throws -> Bool {
        guard current.isOperator(text) else { return false }
        try advance()
        return true
    }

    /// Consumes the current token if it is the name `name`.
    mutating func skip(name: String) throws -> Bool {
        guard current.isName(name) else { return false }
        try advance()
        return true
    }

    func unexpectedToken(expected: String) -> ChatTemplateError {
        if case .endOfTemplate = current.kind {
            return fail("unexpected end of template, expected '\(expected)'.")
        }
        return fail("expected token '\(expected)', got '\(current.description)'")
    }

    mutating func expect(operator text: String) throws {
        guard try skip(operator: text) else { throw unexpectedToken(expected: text) }
    }

    mutating func expect(name: String) throws -> Token {
        let token = current
        guard try skip(name: name) else { throw unexpectedToken(expected: name) }
        return token
    }

    mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw unexpectedToken(expected: "name") }
        try advance()
        return name
    }

    mutating func expectBlockEnd() throws {
        guard case .blockEnd = current.kind else { throw unexpectedToken(expected: "end of statement block") }
        try advance()
    }

    // MARK: - Statements

    mutating func subparse(endTokens: [String]?) throws -> [Node] {
        var body: [Node] = []
        if let endTokens { endTokenStack.append(endTokens) }
        defer { if endTokens != nil { endTokenStack.removeLast() } }
        while true {
            let token = current
            switch token.kind {
            case .data(let text):
                body.append(.text(text))
                try advance()
            case .variableBegin:
                try advance()
                let expression = try parseTuple(withCondexpr: true)
                guard case .variableEnd = current.kind else { throw unexpectedToken(expected: "end of print statement") }
                try advance()
                body.append(.output(expression, line: token.line))
            case .blockBegin:
                try advance()
                if let endTokens, case .name(let name) = current.kind, endTokens.contains(name) {
                    return body
                }
                body.append(contentsOf: try parseStatement())
                try expectBlockEnd()
            case .endOfTemplate:
                return body
            default:
                throw fail("unexpected '\(token.description)'")
            }
        }
    }

    /// Parses a statement body up to one of `endTokens`, leaving the end tag current unless `dropNeedle`.
    mutating func parseStatements(_ endTokens: [String], dropNeedle: Bool = false) throws -> [Node] {
        _ = try skip(operator: ":")
        try expectBlockEnd()
        try enterNesting()
        defer { nesting -= 1 }
        let body = try subparse(endTokens: endTokens)
        if case .endOfTemplate = current.kind {
            throw endOfTemplateError(endTokenStack + [endTokens])
        }
        if dropNeedle { try advance() }
        return body
    }

    func endOfTemplateError(_ stack: [[String]], unknownTag: String? = nil) -> ChatTemplateError {
        var message = unknownTag.map { "Encountered unknown tag '\($0)'." } ?? "Unexpected end of template."
        if let looking = stack.last {
            let lookingText = looking.map { "'\($0)'" }.joined(separator: " or ")
            if let unknownTag, stack.joined().contains(unknownTag) {
                message += " You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for \(lookingText)."
            } else {
                message += " Jinja was looking for the following tags: \(lookingText)."
            }
        }
        if let innermost = tagStack.last {
            message += " The innermost block that needs to be closed is '\(innermost)'."
        }
        return fail(message)
    }

    mutating func parseStatement() throws -> [Node] {
        let token = current
        guard case .name(let tag) = token.kind else { throw fail("tag name expected") }
        guard Self.statementTags.contains(tag) else {
            throw endOfTemplateError(endTokenStack, unknownTag: tag)
        }
        tagStack.append(tag)
        defer { tagStack.removeLast() }
        switch tag {
        case "for": return [try parseFor()]
        case "if": return [try parseIf()]
        case "set": return [try parseSet()]
        case "macro": return [try parseMacro()]
        case "call": return [try parseCallBlock()]
        case "filter": return [try parseFilterBlock()]
        case "with": return [try parseWith()]
        case "print": return try parsePrint()
        case "generation": return [try parseGeneration()]
        case "break", "continue":
            try advance()
            guard loopDepth > 0 else { throw fail("'\(tag)' outside loop", line: token.line) }
            return [tag == "break" ? .breakLoop(line: token.line) : .continueLoop(line: token.line)]
        default:
            throw ChatTemplateError(.unsupported, "the '\(tag)' tag (templates here are standalone and unescaped)", line: token.line)
        }
    }

    static let statementTags: Set<String> = [
        "for", "if", "set", "macro", "call", "filter", "with", "print", "generation", "break", "continue",
        "block", "extends", "include", "import", "from", "autoescape",
    ]

    mutating func parseFor() throws -> Node {
        let line = try expect(name: "for").line
        let target = try parseAssignTarget(extraEndRules: ["in"])
        _ = try expect(name: "in")
        let iterable = try parseTuple(withCondexpr: false, extraEndRules: ["recursive"])
        let condition = try skip(name: "if") ? try parseExpression() : nil
        let recursive = try skip(name: "recursive")
        loopDepth += 1
        let body = try parseStatements(["endfor", "else"])
        loopDepth -= 1
        var otherwise: [Node] = []
        let ending = current
        try advance()
        if !ending.isName("endfor") {
            otherwise = try parseStatements(["endfor"], dropNeedle: true)
        }
        let loop = ForLoop(target: target, iterable: iterable, condition: condition, recursive: recursive, body: body, otherwise: otherwise)
        return .forLoop(loop, line: line)
    }

    mutating func parseIf() throws -> Node {
        let line = try expect(name: "if").line
        var branches: [(test: Expression, body: [Node])] = []
        var otherwise: [Node] = []
        while true {
            let test = try parseTuple(withCondexpr: false)
            let body = try parseStatements(["elif", "else", "endif"])
            branches.append((test, body))
            let token = current
            try advance()
            if token.isName("elif") { continue }
            if token.isName("else") {
                otherwise = try parseStatements(["endif"], dropNeedle: true)
            }
            break
        }
        return .ifChain(branches: branches, otherwise: otherwise, line: line)
    }

    mutating func parseSet() throws -> Node {
        let line = current.line
        try advance()
        let target = try parseAssignTarget(withNamespace: true)
        if try skip(operator: "=") {
            return .set(target, try parseTuple(), line: line)
        }
        let filter = try parseFilter(nil)
        let body = try parseStatements(["endset"], dropNeedle: true)
        return .setBlock(target, filter: filter, body: body, line: line)
    }

    mutating func parseMacro() throws -> Node {
        let line = current.line
        try advance()
        let name = try expectName()
        let parameters = try parseSignature()
        let body = try parseIsolatedBody(["endmacro"])
        return .macro(Self.macroDefinition(name: name, parameters: parameters, body: body), line: line)
    }

    mutating func parseCallBlock() throws -> Node {
        let line = current.line
        try advance()
        let parameters = current.isOperator("(") ? try parseSignature() : []
        guard case .call(let callee, let arguments) = try parseExpression() else { throw fail("expected call", line: line) }
        let body = try parseIsolatedBody(["endcall"])
        let caller = Self.macroDefinition(name: "caller", parameters: parameters, body: body)
        return .callBlock(caller: caller, callee: callee, arguments: arguments, line: line)
    }

    mutating func parseFilterBlock() throws -> Node {
        let line = current.line
        try advance()
        guard let filter = try parseFilter(nil, startInline: true) else { throw fail("expected a filter", line: line) }
        let body = try parseStatements(["endfilter"], dropNeedle: true)
        return .filterBlock(filter: filter, body: body, line: line)
    }

    mutating func parseWith() throws -> Node {
        let line = current.line
        try advance()
        var targets: [(AssignTarget, Expression)] = []
        while true {
            if case .blockEnd = current.kind { break }
            if !targets.isEmpty { try expect(operator: ",") }
            let target = try parseAssignTarget()
            try expect(operator: "=")
            targets.append((target, try parseExpression()))
        }
        let body = try parseStatements(["endwith"], dropNeedle: true)
        return .with(targets: targets, body: body, line: line)
    }

    mutating func parsePrint() throws -> [Node] {
        let line = current.line
        try advance()
        var nodes: [Node] = []
        while true {
            if case .blockEnd = current.kind { break }
            if !nodes.isEmpty { try expect(operator: ",") }
            nodes.append(.output(try parseExpression(), line: line))
        }
        return nodes
    }

    /// transformers' `{% generation %}...{% endgeneration %}`: its body is rendered like a call block's.
    mutating func parseGeneration() throws -> Node {
        try advance()
        return .scoped(try parseIsolatedBody(["endgeneration"]))
    }

    /// A body compiled as its own function in jinja2 (macro, call block): loops outside it don't count.
    mutating func parseIsolatedBody(_ endTokens: [String]) throws -> [Node] {
        let savedLoopDepth = loopDepth
        loopDepth = 0
        defer { loopDepth = savedLoopDepth }
        return try parseStatements(endTokens, dropNeedle: true)
    }

    mutating func parseSignature() throws -> [Parameter] {
        try expect(operator: "(")
        var parameters: [Parameter] = []
        while !current.isOperator(")") {
            if !parameters.isEmpty { try expect(operator: ",") }
            let name = try expectName()
            if try skip(operator: "=") {
                parameters.append(Parameter(name: name, defaultValue: try parseExpression()))
            } else if parameters.contains(where: { $0.defaultValue != nil }) {
                throw fail("non-default argument follows default argument")
            } else {
                parameters.append(Parameter(name: name, defaultValue: nil))
            }
        }
        try expect(operator: ")")
        return parameters
    }

    static func macroDefinition(name: String, parameters: [Parameter], body: [Node]) -> MacroDefinition {
        var names = Set<String>()
        NameCollector.collect(body, into: &names)
        let declared = Set(parameters.map(\.name))
        func reads(_ name: String) -> Bool { names.contains(name) && !declared.contains(name) }
        return MacroDefinition(
            name: name, parameters: parameters, body: body,
            readsCaller: reads("caller"), readsVarargs: reads("varargs"), readsKwargs: reads("kwargs"))
    }
}
