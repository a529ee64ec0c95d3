/// Attribute and item access the way jinja2's sandbox does them: `x.name` tries the Python
/// attribute (a method such as `items` or `strip`) and then the key; `x[key]` tries the key and
/// then the attribute. A miss gives an undefined value carrying jinja2's message; a
/// mutating method (`append`, `update`...) gives an undefined that raises a security error.
extension Renderer {
    func attribute(_ name: String, of value: Value) throws -> Value {
        switch value {
        case .undefined(let undefined):
            throw undefined.error
        case .dict(let dictionary):
            if let method = try Methods.method(name, of: value) { return method }
            if let item = dictionary[.string(name)] { return item }
        case .string, .markup, .list, .tuple:
            if let method = try Methods.method(name, of: value) { return method }
        case .object(let object):
            if let result = try object.attribute(name, renderer: self) { return result }
        case .int, .bool:
            let number = value.integerPayload!
            switch name {
            case "real", "numerator": return .int(number)
            case "imag": return .int(0)
            case "denominator": return .int(1)
            default: break
            }
        case .double(let number):
            if name == "real" { return .double(number) }
            if name == "imag" { return .double(0) }
        default:
            break
        }
        return .undefined(Undefined("\(pythonRepr(objectTypeDescription(value))) has no attribute \(pythonRepr(name))"))
    }

    func item(_ key: Value, of value: Value) throws -> Value {
        switch value {
        case .undefined(let undefined):
            throw undefined.error
        case .dict(let dictionary):
            if let item = dictionary[key] { return item }
        case .list(let items), .tuple(let items):
            if let index = key.integerPayload {
                let position = index < 0 ? index + items.count : index
                if position >= 0 && position < items.count { return items[position] }
            }
        case .string(let text):
            if let character = Self.character(of: text, at: key) { return .string(character) }
        case .markup(let text):
            if let character = Self.character(of: text, at: key) { return .markup(character) }
        default:
            break
        }
        if let name = key.stringPayload {
            if case .dict = value {
                if let method = try Methods.method(name, of: value) { return method }
            } else {
                return try attribute(name, of: value)
            }
            return .undefined(Undefined("\(pythonRepr(objectTypeDescription(value))) has no attribute \(pythonRepr(name))"))
        }
        return .undefined(Undefined("\(objectTypeDescription(value)) has no element \(try pythonRepr(key))"))
    }

    private static func character(of text: String, at key: Value) -> String? {
        guard let index = key.integerPayload else { return nil }
        let scalars = PythonText.scalars(text)
        let position = index < 0 ? index + scalars.count : index
        guard position >= 0 && position < scalars.count else { return nil }
        return String(scalars[position])
    }

    /// `value[start:stop:step]` on strings, lists and tuples, with Python's index clamping.
    func slice(_ value: Value, start: Value?, stop: Value?, step: Value?) throws -> Value {
        if case .undefined(let undefined) = value { throw undefined.error }
        func bound(_ bound: Value?) throws -> Int? {
            guard let bound else { return nil }
            if case .none = bound { return nil }
            guard let number = bound.integerPayload else {
                throw ChatTemplateError(.type, "slice indices must be integers or None or have an __index__ method")
            }
            return number
        }
        let (first, last, stride) = (try bound(start), try bound(stop), try bound(step) ?? 1)
        guard stride != 0 else { throw ChatTemplateError(.value, "slice step cannot be zero") }
        func pick<T>(_ items: [T]) -> [T] {
            Self.sliceIndices(count: items.count, start: first, stop: last, step: stride).map { items[$0] }
        }
        switch value {
        case .list(let items): return .list(pick(items))
        case .tuple(let items): return .tuple(pick(items))
        case .string(let text): return .string(PythonText.string(pick(PythonText.scalars(text))))
        case .markup(let text): return .markup(PythonText.string(pick(PythonText.scalars(text))))
        case .dict:
            throw ChatTemplateError(.type, "unhashable type: 'slice'")
        default:
            // jinja2 slices with Python's own subscript, not the sandbox's lenient item lookup.
            throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object is not subscriptable")
        }
    }

    /// The positions a Python slice selects (CPython's `PySlice_AdjustIndices`).
    static func sliceIndices(count: Int, start: Int?, stop: Int?, step: Int) -> [Int] {
        func clamp(_ index: Int?, defaultValue: Int) -> Int {
            guard var index else { return defaultValue }
            if index < 0 {
                index += count
                if index < 0 { index = step < 0 ? -1 : 0 }
            } else if index >= count {
                index = step < 0 ? count - 1 : count
            }
            return index
        }
        let from = clamp(start, defaultValue: step < 0 ? count - 1 : 0)
        let to = clamp(stop, defaultValue: step < 0 ? -1 : count)
        var indices: [Int] = []
        var i = from
        while step > 0 ? i < to : i > to {
            indices.append(i)
            i += step
        }
        return indices
    }

    /// The items a `for` loop, `list()` or unpacking sees: list and tuple items, string
    /// characters, dict keys, what is left of an iterator; nothing for an undefined value.
    func iterate(_ value: Value) throws -> [Value] {
        switch value {
        case .undefined: return []
        case .list(let items), .tuple(let items): return items
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .markup(let text): return text.unicodeScalars.map { .markup(String($0)) }
        case .dict(let dictionary): return dictionary.keys
        case .iterator(let iterator): return iterator.drain()
        default: throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object is not iterable")
        }
    }

    func call(_ callee: Value, _ arguments: Arguments) throws -> Value {
        switch callee {
        case .undefined(let undefined):
            throw undefined.error
        case .object(let object):
            if let result = try object.call(arguments, renderer: self) { return result }
        default:
            break
        }
        throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(callee))) object is not callable")
    }
}
