/// Visits every expression of a node tree, telling whether it sits in a "soft" position: inside
/// an `if` statement or an inline `a if b else c`, without a loop, macro or block body in
/// between. jinja2 rejects unknown filters and tests when it compiles the template, except in
/// soft positions, where the error waits until the filter actually runs.
enum TreeWalker {
    static func walk(_ nodes: [Node], soft: Bool, _ visit: (Expression, Bool) throws -> Void) rethrows {
        for node in nodes {
            try walk(node, soft: soft, visit)
        }
    }

    static func walk(_ node: Node, soft: Bool, _ visit: (Expression, Bool) throws -> Void) rethrows {
        switch node {
        case .text, .breakLoop, .continueLoop:
            break
        case .output(let expression, _), .set(_, let expression, _):
            try walk(expression, soft: soft, visit)
        case .ifChain(let branches, let otherwise, _):
            for branch in branches {
                try walk(branch.test, soft: true, visit)
                try walk(branch.body, soft: true, visit)
            }
            try walk(otherwise, soft: true, visit)
        case .forLoop(let loop, _):
            try walk(loop.iterable, soft: soft, visit)
            if let condition = loop.condition { try walk(condition, soft: false, visit) }
            try walk(loop.body, soft: false, visit)
            try walk(loop.otherwise, soft: false, visit)
        case .setBlock(_, let filter, let body, _):
            if let filter { try walk(filter, soft: soft, visit) }
            try walk(body, soft: false, visit)
        case .macro(let definition, _):
            try walk(definition, visit)
        case .callBlock(let caller, let callee, let arguments, _):
            try walk(caller, visit)
            try walk(.call(callee, arguments), soft: soft, visit)
        case .filterBlock(let filter, let body, _):
            try walk(filter, soft: soft, visit)
            try walk(body, soft: false, visit)
        case .with(let targets, let body, _):
            for (_, value) in targets { try walk(value, soft: soft, visit) }
            try walk(body, soft: false, visit)
        case .scoped(let body):
            try walk(body, soft: false, visit)
        }
    }

    static func walk(_ definition: MacroDefinition, _ visit: (Expression, Bool) throws -> Void) rethrows {
        for parameter in definition.parameters {
            if let value = parameter.defaultValue { try walk(value, soft: false, visit) }
        }
        try walk(definition.body, soft: false, visit)
    }

    static func walk(_ expression: Expression, soft: Bool, _ visit: (Expression, Bool) throws -> Void) rethrows {
        try visit(expression, soft)
        switch expression {
        case .constant, .name:
            break
        case .list(let items), .tuple(let items), .concat(let items):
            for item in items { try walk(item, soft: soft, visit) }
        case .dictionary(let pairs):
            for pair in pairs {
                try walk(pair.key, soft: soft, visit)
                try walk(pair.value, soft: soft, visit)
            }
        case .attribute(let base, _), .unary(_, let base), .not(let base):
            try walk(base, soft: soft, visit)
        case .item(let base, let index):
            try walk(base, soft: soft, visit)
            try walk(index, soft: soft, visit)
        case .slice(let start, let stop, let step):
            for part in [start, stop, step] {
                if let part { try walk(part, soft: soft, visit) }
            }
        case .call(let callee, let arguments):
            try walk(callee, soft: soft, visit)
            try walk(arguments, soft: soft, visit)
        case .filter(let base, _, let arguments, _):
            if let base { try walk(base, soft: soft, visit) }
            try walk(arguments, soft: soft, visit)
        case .test(let base, _, let arguments, _):
            try walk(base, soft: soft, visit)
            try walk(arguments, soft: soft, visit)
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
            try walk(left, soft: soft, visit)
            try walk(right, soft: soft, visit)
        case .compare(let left, let operations):
            try walk(left, soft: soft, visit)
            for operation in operations { try walk(operation.operand, soft: soft, visit) }
        case .conditional(let test, let then, let otherwise, _):
            try walk(test, soft: true, visit)
            try walk(then, soft: true, visit)
            if let otherwise { try walk(otherwise, soft: true, visit) }
        }
    }

    static func walk(_ arguments: CallArguments, soft: Bool, _ visit: (Expression, Bool) throws -> Void) rethrows {
        for value in arguments.positional { try walk(value, soft: soft, visit) }
        for keyword in arguments.keywords { try walk(keyword.value, soft: soft, visit) }
        if let star = arguments.starArguments { try walk(star, soft: soft, visit) }
        if let star = arguments.starKeywords { try walk(star, soft: soft, visit) }
    }
}

/// The variable names an expression tree reads.
enum NameCollector {
    static func collect(_ nodes: [Node], into names: inout Set<String>) {
        TreeWalker.walk(nodes, soft: false) { expression, _ in
            if case .name(let name) = expression { names.insert(name) }
        }
    }
}
