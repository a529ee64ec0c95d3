/// Filters over sequences and mappings: `length`, `list`, `join`, `first`, `last`, `map`,
/// `select`/`reject` (and their `attr` forms), `sort`, `unique`, `min`, `max`, `sum`, `items`,
/// `dictsort`, `batch`, `slice`, `reverse`, `attr`.
extension Filters {
    static let sequenceFilters: [String: Filter] = [
        "length": length,
        "count": length,
        "list": { value, arguments, renderer in
            _ = try bind(arguments, [], "list")
            return .list(try renderer.iterate(value))
        },
        "join": { value, arguments, renderer in
            let bound = try bind(arguments, ["d", "attribute"], "join")
            var items = try renderer.iterate(value)
            if let attribute = bound[1], !attribute.isNone {
                items = try items.map { try attributeGetter(attribute, renderer: renderer)($0) }
            }
            let separator = try bound[0].map { try pythonStr($0) } ?? ""
            return .string(try items.map { try pythonStr($0) }.joined(separator: separator))
        },
        "first": { value, arguments, renderer in
            _ = try bind(arguments, [], "first")
            return try renderer.iterate(value).first ?? .undefined(Undefined("No first item, sequence was empty."))
        },
        "last": { value, arguments, renderer in
            _ = try bind(arguments, [], "last")
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict: break
            default: throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object is not reversible")
            }
            return try renderer.iterate(value).last ?? .undefined(Undefined("No last item, sequence was empty."))
        },
        "items": { value, arguments, _ in
            _ = try bind(arguments, [], "items")
            switch value {
            case .undefined: return .iterator(ValueIterator([]))
            case .dict(let dictionary): return .iterator(ValueIterator(dictionary.entries.map { .tuple([$0, $1]) }))
            default: throw ChatTemplateError(.type, "Can only get item pairs from a mapping.")
            }
        },
        "dictsort": { value, arguments, _ in
            let bound = try bind(arguments, ["case_sensitive", "by", "reverse"], "dictsort")
            if case .undefined(let undefined) = value { throw undefined.error }
            guard case .dict(let dictionary) = value else {
                throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object has no attribute 'items'")
            }
            let by = bound[1]?.stringPayload ?? "key"
            guard by == "key" || by == "value" else {
                throw ChatTemplateError(.value, "You can only sort by either \"key\" or \"value\"")
            }
            let caseSensitive = bound[0]?.isTruthy ?? false
            let pairs = dictionary.entries.map { [$0, $1] }
            let sorted = try stableSort(pairs, reverse: bound[2]?.isTruthy ?? false) { pair in
                caseSensitive ? pair[by == "key" ? 0 : 1] : ignoreCase(pair[by == "key" ? 0 : 1])
            }
            return .list(sorted.map { .tuple($0) })
        },
        "map": { value, arguments, renderer in
            guard value.isTruthy else { return .iterator(ValueIterator([])) }
            let transform: (Value) throws -> Value
            if arguments.positional.isEmpty, let index = arguments.keywords.firstIndex(where: { $0.name == "attribute" }) {
                var keywords = arguments.keywords
                let attribute = keywords.remove(at: index).value
                let defaultIndex = keywords.firstIndex { $0.name == "default" }
                let fallback = defaultIndex.map { keywords.remove(at: $0).value }
                if let extra = keywords.first {
                    throw ChatTemplateError(.type, "Unexpected keyword argument \(pythonRepr(extra.name))")
                }
                transform = attributeGetter(attribute, default: fallback, renderer: renderer)
            } else {
                guard let name = arguments.positional.first?.stringPayload else {
                    throw ChatTemplateError(.type, "map requires a filter argument")
                }
                let rest = Arguments(positional: Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
                transform = { try Filters.apply(name, to: $0, rest, renderer: renderer, byName: true) }
            }
            return .iterator(ValueIterator(try renderer.iterate(value).map(transform)))
        },
        "select": { value, arguments, renderer in try selectOrReject(value, arguments, renderer, keep: true, attribute: false) },
        "reject": { value, arguments, renderer in try selectOrReject(value, arguments, renderer, keep: false, attribute: false) },
        "selectattr": { value, arguments, renderer in try selectOrReject(value, arguments, renderer, keep: true, attribute: true) },
        "rejectattr": { value, arguments, renderer in try selectOrReject(value, arguments, renderer, keep: false, attribute: true) },
        "sort": { value, arguments, renderer in
            let bound = try bind(arguments, ["reverse", "case_sensitive", "attribute"], "sort")
            let caseSensitive = bound[1]?.isTruthy ?? false
            let getters = try multiAttributeGetter(bound[2], renderer: renderer)
            let items = try renderer.iterate(value)
            return .list(try stableSort(items, reverse: bound[0]?.isTruthy ?? false) { item in
                let keys = try getters.map { getter in
                    let key = try getter(item)
                    return caseSensitive ? key : ignoreCase(key)
                }
                return keys.count == 1 ? keys[0] : .list(keys)
            })
        },
        "unique": { value, arguments, renderer in
            let bound = try bind(arguments, ["case_sensitive", "attribute"], "unique")
            let caseSensitive = bound[0]?.isTruthy ?? false
            let getter = attributeGetter(bound[1] ?? .none, renderer: renderer)
            var seen = Set<HashKey>()
            var result: [Value] = []
            for item in try renderer.iterate(value) {
                let key = try getter(item)
                if seen.insert(try HashKey(caseSensitive ? key : ignoreCase(key))).inserted {
                    result.append(item)
                }
            }
            return .iterator(ValueIterator(result))
        },
        "min": { value, arguments, renderer in try extreme(value, arguments, renderer, name: "min") },
        "max": { value, arguments, renderer in try extreme(value, arguments, renderer, name: "max") },
        "sum": { value, arguments, renderer in
            let bound = try bind(arguments, ["attribute", "start"], "sum")
            let getter = attributeGetter(bound[0] ?? .none, renderer: renderer)
            var total = bound[1] ?? .int(0)
            for item in try renderer.iterate(value) {
                total = try Arithmetic.binary("+", total, try getter(item))
            }
            return total
        },
        "reverse": { value, arguments, renderer in
            _ = try bind(arguments, [], "reverse")
            switch value {
            case .string(let text): return .string(PythonText.string(text.unicodeScalars.reversed()))
            case .markup(let text): return .markup(PythonText.string(text.unicodeScalars.reversed()))
            case .list(let items): return .iterator(ValueIterator(items.reversed(), typeName: "list_reverseiterator"))
            case .tuple(let items): return .iterator(ValueIterator(items.reversed(), typeName: "reversed"))
            case .dict(let dictionary):
                return .iterator(ValueIterator(dictionary.keys.reversed(), typeName: "dict_reversekeyiterator"))
            case .iterator(let iterator): return .list(iterator.drain().reversed())
            case .undefined: return .iterator(ValueIterator([], typeName: "reversed"))
            default: throw ChatTemplateError(.type, "argument must be iterable")
            }
        },
        "batch": { value, arguments, renderer in
            let bound = try bind(arguments, ["linecount", "fill_with"], "batch")
            guard let countValue = bound[0] else { throw Methods.missingArgument("do_batch", "linecount") }
            let lineCount = try requireInt(countValue, "batch")
            let fill = bound[1].flatMap { $0.isNone ? nil : $0 }
            var batches: [Value] = []
            var current: [Value] = []
            for item in try renderer.iterate(value) {
                if current.count == lineCount {
                    batches.append(.list(current))
                    current = []
                }
                current.append(item)
            }
            if !current.isEmpty {
                if let fill, current.count < lineCount {
                    current += Array(repeating: fill, count: lineCount - current.count)
                }
                batches.append(.list(current))
            }
            return .iterator(ValueIterator(batches))
        },
        "slice": { value, arguments, renderer in
            let bound = try bind(arguments, ["slices", "fill_with"], "slice")
            guard let slicesValue = bound[0] else { throw Methods.missingArgument("do_slice", "slices") }
            let slices = try requireInt(slicesValue, "slice")
            guard slices > 0 else { throw ChatTemplateError(.value, "integer division or modulo by zero") }
            let fill = bound[1].flatMap { $0.isNone ? nil : $0 }
            let items = try renderer.iterate(value)
            let perSlice = items.count / slices
            let withExtra = items.count % slices
            var offset = 0
            var result: [Value] = []
            for number in 0..<slices {
                let start = offset + number * perSlice
                if number < withExtra { offset += 1 }
                let end = offset + (number + 1) * perSlice
                var part = Array(items[start..<end])
                if let fill, number >= withExtra { part.append(fill) }
                result.append(.list(part))
            }
            return .iterator(ValueIterator(result))
        },
        "attr": { value, arguments, renderer in
            guard let name = try bind(arguments, ["name"], "attr")[0]?.stringPayload else {
                throw ChatTemplateError(.type, "attr() requires an attribute name")
            }
            switch value {
            case .undefined(let undefined): throw undefined.error
            case .object: return try renderer.attribute(name, of: value)
            default:
                if let method = try Methods.method(name, of: value) { return method }
                return .undefined(Undefined("\(pythonRepr(objectTypeDescription(value))) has no attribute \(pythonRepr(name))"))
            }
        },
    ]

    private static func length(_ value: Value, _ arguments: Arguments, _ renderer: Renderer) throws -> Value {
        _ = try bind(arguments, [], "length")
        switch value {
        case .undefined: return .int(0)
        case .string(let text), .markup(let text): return .int(PythonText.length(text))
        case .list(let items), .tuple(let items): return .int(items.count)
        case .dict(let dictionary): return .int(dictionary.count)
        default: throw ChatTemplateError(.type, "object of type \(pythonRepr(pythonTypeName(value))) has no len()")
        }
    }

    /// jinja2's `ignore_case`: strings compare lower-cased.
    static func ignoreCase(_ value: Value) -> Value {
        if let text = value.stringPayload { return .string(PythonText.lower(text)) }
        return value
    }

    /// jinja2's `make_attrgetter`: `"a.b.0"` looks up `a`, then `b`, then item 0 (dotted parts
    /// that are all digits become integers); `default` replaces an undefined result.
    static func attributeGetter(
        _ attribute: Value, default fallback: Value? = nil, renderer: Renderer
    ) -> (Value) throws -> Value {
        let parts: [Value]
        switch attribute {
        case .none: parts = []
        case .string(let text), .markup(let text):
            parts = text.split(separator: ".", omittingEmptySubsequences: false).map { part in
                !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) ? .int(Int(part) ?? 0) : .string(String(part))
            }
        default: parts = [attribute]
        }
        return { item in
            var current = item
            for part in parts {
                current = try renderer.item(part, of: current)
                if let fallback, !fallback.isNone, current.isUndefined { current = fallback }
            }
            return current
        }
    }

    /// jinja2's `make_multi_attrgetter`: comma-separated attributes give several sort keys.
    static func multiAttributeGetter(_ attribute: Value?, renderer: Renderer) throws -> [(Value) throws -> Value] {
        guard let attribute, !attribute.isNone else { return [{ $0 }] }
        if let text = attribute.stringPayload {
            return text.split(separator: ",", omittingEmptySubsequences: false).map {
                attributeGetter(.string(String($0)), renderer: renderer)
            }
        }
        return [attributeGetter(attribute, renderer: renderer)]
    }

    /// Python's stable `sorted(items, key=key, reverse=reverse)`.
    static func stableSort<T>(_ items: [T], reverse: Bool, key: (T) throws -> Value) throws -> [T] {
        let keys = try items.map(key)
        var failure: (any Error)?
        let order = items.indices.sorted { a, b in
            guard failure == nil else { return false }
            do {
                let comparison = try pythonOrder(keys[a], keys[b])
                if comparison != 0 { return reverse ? comparison > 0 : comparison < 0 }
            } catch {
                failure = error
            }
            return a < b
        }
        if let failure { throw failure }
        return order.map { items[$0] }
    }

    private static func selectOrReject(
        _ value: Value, _ arguments: Arguments, _ renderer: Renderer, keep: Bool, attribute: Bool
    ) throws -> Value {
        guard value.isTruthy else { return .iterator(ValueIterator([])) }
        var positional = arguments.positional
        var transform: (Value) throws -> Value = { $0 }
        if attribute {
            guard !positional.isEmpty else { throw ChatTemplateError(.type, "Missing parameter for attribute name") }
            transform = attributeGetter(positional.removeFirst(), renderer: renderer)
        }
        let test: (Value) throws -> Bool
        if positional.isEmpty {
            test = { $0.isTruthy }
        } else {
            guard let name = positional.removeFirst().stringPayload else {
                throw ChatTemplateError(.type, "the test name must be a string")
            }
            let rest = Arguments(positional: positional, keywords: arguments.keywords)
            test = { try TemplateTests.apply(name, to: $0, rest, renderer: renderer, byName: true) }
        }
        let kept = try renderer.iterate(value).filter { try test(try transform($0)) == keep }
        return .iterator(ValueIterator(kept, typeName: "generator"))
    }

    private static func extreme(_ value: Value, _ arguments: Arguments, _ renderer: Renderer, name: String) throws -> Value {
        let bound = try bind(arguments, ["case_sensitive", "attribute"], name)
        let caseSensitive = bound[0]?.isTruthy ?? false
        let getter = attributeGetter(bound[1] ?? .none, renderer: renderer)
        let items = try renderer.iterate(value)
        guard var best = items.first else { return .undefined(Undefined("No aggregated item, sequence was empty.")) }
        func key(_ item: Value) throws -> Value {
            let key = try getter(item)
            return caseSensitive ? key : ignoreCase(key)
        }
        var bestKey = try key(best)
        for item in items.dropFirst() {
            let itemKey = try key(item)
            let order = try pythonOrder(itemKey, bestKey, op: name == "min" ? "<" : ">")
            if name == "min" ? order < 0 : order > 0 {
                best = item
                bestKey = itemKey
            }
        }
        return best
    }
}
