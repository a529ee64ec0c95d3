/// A literal written in the template.
enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
}

/// Arguments of a call, filter or test as written: `f(a, b, key=c, *rest, **options)`.
struct CallArguments: Sendable {
    var positional: [Expression] = []
    var keywords: [(name: String, value: Expression)] = []
    var starArguments: Expression?
    var starKeywords: Expression?
}

/// An expression node of the template.
indirect enum Expression: Sendable {
    case constant(Constant)
    case name(String)
    case list([Expression])
    case tuple([Expression])
    case dictionary([(key: Expression, value: Expression)])
    case attribute(Expression, String)
    case item(Expression, Expression)
    case slice(start: Expression?, stop: Expression?, step: Expression?)
    case call(Expression, CallArguments)
    /// `value|name(args)`; the value is nil for the filter section of `{% filter %}` and block `{% set %}`.
    case filter(Expression?, name: String, CallArguments, line: Int)
    case test(Expression, name: String, CallArguments, line: Int)
    case unary(String, Expression)
    case binary(String, Expression, Expression)
    case concat([Expression])
    case compare(Expression, [(op: String, operand: Expression)])
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)
    case conditional(test: Expression, then: Expression, otherwise: Expression?, line: Int)
}

/// Where `set`, `for` and `with` put values.
indirect enum AssignTarget: Sendable {
    case name(String)
    case tuple([AssignTarget])
    case namespaceAttribute(namespace: String, attribute: String)
}

/// A parameter of a macro or call block, with its default.
struct Parameter: Sendable {
    let name: String
    let defaultValue: Expression?
}

struct ForLoop: Sendable {
    let target: AssignTarget
    let iterable: Expression
    let condition: Expression?
    let recursive: Bool
    let body: [Node]
    let otherwise: [Node]
}

struct MacroDefinition: Sendable {
    let name: String
    let parameters: [Parameter]
    let body: [Node]
    /// Whether the body reads `caller`, `varargs` or `kwargs`, which changes how calls bind.
    let readsCaller: Bool
    let readsVarargs: Bool
    let readsKwargs: Bool
}

/// A statement or output node of the template.
indirect enum Node: Sendable {
    case text(String)
    case output(Expression, line: Int)
    case ifChain(branches: [(test: Expression, body: [Node])], otherwise: [Node], line: Int)
    case forLoop(ForLoop, line: Int)
    case set(AssignTarget, Expression, line: Int)
    case setBlock(AssignTarget, filter: Expression?, body: [Node], line: Int)
    case macro(MacroDefinition, line: Int)
    /// `{% call(params) callee(arguments) %}body{% endcall %}`: calls `callee` with `caller` added.
    case callBlock(caller: MacroDefinition, callee: Expression, arguments: CallArguments, line: Int)
    case filterBlock(filter: Expression, body: [Node], line: Int)
    case with(targets: [(AssignTarget, Expression)], body: [Node], line: Int)
    /// A body rendered in its own scope: `{% generation %}` (transformers' extension) and `{% block %}`.
    case scoped([Node])
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}
