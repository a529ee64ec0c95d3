#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's arithmetic operators on template values: `bool` counts as `int`, `/` always gives
/// a float, `//` and `%` floor toward negative infinity, `+` and `*` also join and repeat
/// strings, lists and tuples. Integers are 64-bit here; an overflow is an error rather than
/// Python's silent promotion to a big integer.
enum Arithmetic {
    /// The largest string (UTF-8 bytes) or list (items) an operator may build.
    static let maximumStringBytes = 64 << 20
    static let maximumListItems = 1 << 20

    static func checkSize(_ value: Value) throws -> Value {
        switch value {
        case .string(let text), .markup(let text):
            if text.utf8.count > maximumStringBytes {
                throw ChatTemplateError(.limit, "string longer than \(maximumStringBytes) bytes")
            }
        case .list(let items), .tuple(let items):
            if items.count > maximumListItems {
                throw ChatTemplateError(.limit, "sequence longer than \(maximumListItems) items")
            }
        default:
            break
        }
        return value
    }

    static func unary(_ op: String, _ operand: Value) throws -> Value {
        if case .undefined(let undefined) = operand { throw undefined.error }
        if let number = operand.integerPayload {
            if op == "+" { return .int(number) }
            let (negated, overflow) = (0).subtractingReportingOverflow(number)
            if overflow { throw overflowError() }
            return .int(negated)
        }
        if case .double(let number) = operand {
            return .double(op == "-" ? -number : number)
        }
        throw ChatTemplateError(.type, "bad operand type for unary \(op): \(pythonRepr(pythonTypeName(operand)))")
    }

    static func binary(_ op: String, _ lhs: Value, _ rhs: Value) throws -> Value {
        // `str % x` formats before the right operand gets a say, even when it is undefined.
        if op == "%", let format = lhs.stringPayload {
            return .string(try PrintfFormat.format(format, rhs))
        }
        if case .undefined(let undefined) = lhs { throw undefined.error }
        if case .undefined(let undefined) = rhs { throw undefined.error }
        if let a = lhs.integerPayload, let b = rhs.integerPayload {
            return try integers(op, a, b)
        }
        if let a = lhs.numberPayload, let b = rhs.numberPayload {
            return try floats(op, a, b)
        }
        switch op {
        case "+": return try checkSize(try add(lhs, rhs))
        case "*": return try multiply(lhs, rhs)
        default: break
        }
        throw unsupported(op, lhs, rhs)
    }

    private static func unsupported(_ op: String, _ lhs: Value, _ rhs: Value) -> ChatTemplateError {
        let symbol = op == "**" ? "** or pow()" : op
        return ChatTemplateError(
            .type, "unsupported operand type(s) for \(symbol): \(pythonRepr(pythonTypeName(lhs))) and \(pythonRepr(pythonTypeName(rhs)))")
    }

    private static func overflowError() -> ChatTemplateError {
        ChatTemplateError(.value, "integer overflow: the result does not fit in 64 bits")
    }

    private static func integers(_ op: String, _ a: Int, _ b: Int) throws -> Value {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Value {
            if result.overflow { throw overflowError() }
            return .int(result.partialValue)
        }
        switch op {
        case "+": return try checked(a.addingReportingOverflow(b))
        case "-": return try checked(a.subtractingReportingOverflow(b))
        case "*": return try checked(a.multipliedReportingOverflow(by: b))
        case "/":
            guard b != 0 else { throw ChatTemplateError(.value, "division by zero") }
            return .double(Double(a) / Double(b))
        case "//", "%":
            guard b != 0 else {
                throw ChatTemplateError(.value, op == "//" ? "integer division or modulo by zero" : "integer modulo by zero")
            }
            if a == .min && b == -1 {
                if op == "%" { return .int(0) }
                throw overflowError()
            }
            var quotient = a / b
            var remainder = a % b
            if remainder != 0 && ((remainder < 0) != (b < 0)) {
                quotient -= 1
                remainder += b
            }
            return .int(op == "//" ? quotient : remainder)
        default:
            if b < 0 {
                guard a != 0 else { throw ChatTemplateError(.value, "0.0 cannot be raised to a negative power") }
                return .double(pow(Double(a), Double(b)))
            }
            var result = 1
            var base = a
            var exponent = b
            while exponent > 0 {
                if exponent & 1 == 1 {
                    let (product, overflow) = result.multipliedReportingOverflow(by: base)
                    if overflow { throw overflowError() }
                    result = product
                }
                exponent >>= 1
                if exponent > 0 {
                    let (square, overflow) = base.multipliedReportingOverflow(by: base)
                    if overflow { throw overflowError() }
                    base = square
                }
            }
            return .int(result)
        }
    }

    private static func floats(_ op: String, _ a: Double, _ b: Double) throws -> Value {
        switch op {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw ChatTemplateError(.value, "float division by zero") }
            return .double(a / b)
        case "//", "%":
            guard b != 0 else {
                throw ChatTemplateError(.value, op == "//" ? "float floor division by zero" : "float modulo")
            }
            let (quotient, remainder) = floorDivide(a, b)
            return .double(op == "//" ? quotient : remainder)
        default:
            if a == 0 && b < 0 { throw ChatTemplateError(.value, "0.0 cannot be raised to a negative power") }
            if a < 0 && b != b.rounded() {
                throw ChatTemplateError(.unsupported, "a negative number raised to a fractional power (a complex number)")
            }
            return .double(pow(a, b))
        }
    }

    /// CPython's `float_divmod`.
    private static func floorDivide(_ a: Double, _ b: Double) -> (Double, Double) {
        var remainder = fmod(a, b)
        var quotient = (a - remainder) / b
        if remainder != 0 {
            if (b < 0) != (remainder < 0) {
                remainder += b
                quotient -= 1
            }
        } else {
            remainder = copysign(0, b)
        }
        var floorQuotient: Double
        if quotient != 0 {
            floorQuotient = quotient.rounded(.down)
            if quotient - floorQuotient > 0.5 { floorQuotient += 1 }
        } else {
            floorQuotient = copysign(0, a / b)
        }
        return (floorQuotient, remainder)
    }

    private static func isSequence(_ value: Value) -> Bool {
        switch value {
        case .string, .markup, .list, .tuple: return true
        default: return false
        }
    }

    private static func add(_ lhs: Value, _ rhs: Value) throws -> Value {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return .string(a + b)
        case (.markup(let a), .string(let b)): return .markup(a + HTML.escape(b))
        case (.string(let a), .markup(let b)): return .markup(HTML.escape(a) + b)
        case (.markup(let a), .markup(let b)): return .markup(a + b)
        case (.list(let a), .list(let b)): return .list(a + b)
        case (.tuple(let a), .tuple(let b)): return .tuple(a + b)
        case (.string, _), (.list, _), (.tuple, _):
            let kind = lhs.stringPayload != nil ? "str" : pythonTypeName(lhs)
            throw ChatTemplateError(.type, "can only concatenate \(kind) (not \"\(pythonTypeName(rhs))\") to \(kind)")
        default:
            throw unsupported("+", lhs, rhs)
        }
    }

    private static func multiply(_ lhs: Value, _ rhs: Value) throws -> Value {
        let (sequence, times): (Value, Value) = isSequence(rhs) && !isSequence(lhs) ? (rhs, lhs) : (lhs, rhs)
        guard let count = times.integerPayload else {
            switch sequence {
            case .string, .markup, .list, .tuple:
                throw ChatTemplateError(.type, "can't multiply sequence by non-int of type \(pythonRepr(pythonTypeName(times)))")
            default:
                throw unsupported("*", lhs, rhs)
            }
        }
        let repeats = max(0, count)
        func checkSize(_ size: Int, limit: Int = maximumStringBytes) throws {
            let (total, overflow) = size.multipliedReportingOverflow(by: repeats)
            if overflow || total > limit {
                throw ChatTemplateError(.limit, "repetition result larger than \(limit)")
            }
        }
        switch sequence {
        case .string(let text):
            try checkSize(text.utf8.count)
            return .string(String(repeating: text, count: repeats))
        case .markup(let text):
            try checkSize(text.utf8.count)
            return .markup(String(repeating: text, count: repeats))
        case .list(let items):
            try checkSize(items.count, limit: maximumListItems)
            return .list(Array([[Value]](repeating: items, count: repeats).joined()))
        case .tuple(let items):
            try checkSize(items.count, limit: maximumListItems)
            return .tuple(Array([[Value]](repeating: items, count: repeats).joined()))
        default:
            throw unsupported("*", lhs, rhs)
        }
    }
}
