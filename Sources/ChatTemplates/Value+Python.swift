/// How deep `repr`, equality, ordering and `tojson` follow nested containers before giving up
/// (Python would raise `RecursionError`; Swift would overflow its stack).
let maximumValueDepth = 256

func depthError() -> ChatTemplateError {
    ChatTemplateError(.limit, "value nested more than \(maximumValueDepth) levels deep")
}

/// The Python type name of a value, as error messages show it.
func pythonTypeName(_ value: Value) -> String {
    switch value {
    case .undefined: return "Undefined"
    case .none: return "NoneType"
    case .bool: return "bool"
    case .int: return "int"
    case .double: return "float"
    case .string: return "str"
    case .markup: return "Markup"
    case .list: return "list"
    case .tuple: return "tuple"
    case .dict: return "dict"
    case .iterator(let iterator): return iterator.typeName
    case .object(let object): return object.typeName
    }
}

/// jinja2's `object_type_repr`: how undefined-value messages name the object they came from.
func objectTypeDescription(_ value: Value) -> String {
    if case .none = value { return "None" }
    return "\(pythonTypeName(value)) object"
}

extension Value {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// Lists and tuples as a list; other values unchanged.
    var asSequence: Value {
        if case .tuple(let items) = self { return .list(items) }
        return self
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        case .double(let number): return number != 0
        case .string(let text), .markup(let text): return !text.isEmpty
        case .list(let items), .tuple(let items): return !items.isEmpty
        case .dict(let dictionary): return !dictionary.isEmpty
        case .iterator, .object: return true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The string payload of `str` and `Markup` values.
    var stringPayload: String? {
        switch self {
        case .string(let text), .markup(let text): return text
        default: return nil
        }
    }

    /// The integer value of `int` and `bool` (Python's bool is an int).
    var integerPayload: Int? {
        switch self {
        case .int(let number): return number
        case .bool(let flag): return flag ? 1 : 0
        default: return nil
        }
    }

    /// The numeric value of `int`, `bool` and `float`.
    var numberPayload: Double? {
        switch self {
        case .int(let number): return Double(number)
        case .bool(let flag): return flag ? 1 : 0
        case .double(let number): return number
        default: return nil
        }
    }
}

/// Python's `str(value)` (jinja2's output conversion): undefined prints as nothing.
func pythonStr(_ value: Value) throws -> String {
    switch value {
    case .undefined: return ""
    case .string(let text), .markup(let text): return text
    case .object(let object): return try object.text()
    default: return try pythonRepr(value)
    }
}

/// Python's `repr(value)`.
func pythonRepr(_ value: Value, depth: Int = 0) throws -> String {
    guard depth < maximumValueDepth else { throw depthError() }
    switch value {
    case .undefined: return "Undefined"
    case .none: return "None"
    case .bool(let flag): return flag ? "True" : "False"
    case .int(let number): return String(number)
    case .double(let number): return PythonNumber.repr(number)
    case .string(let text): return pythonRepr(text)
    case .markup(let text): return "Markup(\(pythonRepr(text)))"
    case .list(let items):
        return "[" + (try items.map { try pythonRepr($0, depth: depth + 1) }.joined(separator: ", ")) + "]"
    case .tuple(let items):
        let parts = try items.map { try pythonRepr($0, depth: depth + 1) }
        return parts.count == 1 ? "(\(parts[0]),)" : "(" + parts.joined(separator: ", ") + ")"
    case .dict(let dictionary):
        let parts = try dictionary.entries.map { key, item in
            try pythonRepr(key, depth: depth + 1) + ": " + pythonRepr(item, depth: depth + 1)
        }
        return "{" + parts.joined(separator: ", ") + "}"
    case .iterator(let iterator): return "<\(iterator.typeName) object>"
    case .object(let object): return try object.text()
    }
}

/// Python's `==`.
func pythonEqual(_ lhs: Value, _ rhs: Value, depth: Int = 0) throws -> Bool {
    guard depth < maximumValueDepth else { throw depthError() }
    switch (lhs, rhs) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.int(let a), .int(let b)): return a == b
    case (.string(let a), .string(let b)), (.string(let a), .markup(let b)),
         (.markup(let a), .string(let b)), (.markup(let a), .markup(let b)):
        return PythonText.equal(a, b)
    case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where !(try pythonEqual(x, y, depth: depth + 1)) { return false }
        return true
    case (.dict(let a), .dict(let b)):
        guard a.count == b.count else { return false }
        for (key, value) in a.entries {
            guard let other = b[key], try pythonEqual(value, other, depth: depth + 1) else { return false }
        }
        return true
    case (.iterator(let a), .iterator(let b)): return a === b
    case (.object(let a), .object(let b)): return a === b
    default:
        if let a = lhs.integerPayload, let b = rhs.integerPayload { return a == b }
        if let a = lhs.numberPayload, let b = rhs.numberPayload { return a == b }
        return false
    }
}

/// Python's `<`, `<=`, `>`, `>=`: numbers, strings, and lists or tuples element by element.
func pythonCompare(_ op: String, _ lhs: Value, _ rhs: Value) throws -> Bool {
    let order = try pythonOrder(lhs, rhs, op: op, depth: 0)
    switch op {
    case "<": return order < 0
    case "<=": return order <= 0
    case ">": return order > 0
    default: return order >= 0
    }
}

/// -1, 0 or 1 as `lhs` sorts before, equal to or after `rhs`, or Python's `TypeError`.
func pythonOrder(_ lhs: Value, _ rhs: Value, op: String = "<", depth: Int = 0) throws -> Int {
    guard depth < maximumValueDepth else { throw depthError() }
    if case .undefined(let undefined) = lhs { throw undefined.error }
    if case .undefined(let undefined) = rhs { throw undefined.error }
    if let a = lhs.integerPayload, let b = rhs.integerPayload {
        return a < b ? -1 : a > b ? 1 : 0
    }
    if let a = lhs.numberPayload, let b = rhs.numberPayload {
        return a < b ? -1 : a > b ? 1 : 0
    }
    if let a = lhs.stringPayload, let b = rhs.stringPayload {
        return PythonText.less(a, b) ? -1 : PythonText.equal(a, b) ? 0 : 1
    }
    switch (lhs, rhs) {
    case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
        for (x, y) in zip(a, b) {
            if try pythonEqual(x, y, depth: depth + 1) { continue }
            return try pythonOrder(x, y, op: op, depth: depth + 1)
        }
        return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
    default:
        throw ChatTemplateError(
            .type, "'\(op)' not supported between instances of \(pythonRepr(pythonTypeName(lhs))) and \(pythonRepr(pythonTypeName(rhs)))")
    }
}
