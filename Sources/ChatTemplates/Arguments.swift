/// A call's arguments after evaluation.
struct Arguments {
    var positional: [Value] = []
    var keywords: [(name: String, value: Value)] = []

    var isEmpty: Bool { positional.isEmpty && keywords.isEmpty }

    /// Binds the arguments to Python-style parameters `names` of `function`: positional first,
    /// then keywords by name. Parameters not given are nil. Too many or unknown arguments throw
    /// Python's `TypeError`.
    func bind(_ names: [String], function: String) throws -> [Value?] {
        guard positional.count <= names.count else {
            throw ChatTemplateError(.type, "\(function)() takes at most \(names.count) argument\(names.count == 1 ? "" : "s") (\(positional.count) given)")
        }
        var bound: [Value?] = positional.map { $0 }
        bound += Array(repeating: nil, count: names.count - positional.count)
        for (name, value) in keywords {
            guard let index = names.firstIndex(of: name) else {
                throw ChatTemplateError(.type, "\(function)() got an unexpected keyword argument \(pythonRepr(name))")
            }
            guard bound[index] == nil else {
                throw ChatTemplateError(.type, "\(function)() got multiple values for argument \(pythonRepr(name))")
            }
            bound[index] = value
        }
        return bound
    }
}
