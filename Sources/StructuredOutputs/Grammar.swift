/// A set of bytes, as 256 bits.
struct ByteClass: Hashable, Sendable {
    var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    init(_ range: ClosedRange<UInt8>) {
        for byte in range { insert(byte) }
    }

    static func byte(_ value: UInt8) -> ByteClass { ByteClass(value...value) }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: bits.0 |= bit
        case 1: bits.1 |= bit
        case 2: bits.2 |= bit
        default: bits.3 |= bit
        }
    }

    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return bits.0 & bit != 0
        case 1: return bits.1 & bit != 0
        case 2: return bits.2 & bit != 0
        default: return bits.3 & bit != 0
        }
    }

    static func == (lhs: ByteClass, rhs: ByteClass) -> Bool {
        lhs.bits.0 == rhs.bits.0 && lhs.bits.1 == rhs.bits.1 && lhs.bits.2 == rhs.bits.2 && lhs.bits.3 == rhs.bits.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(bits.0)
        hasher.combine(bits.1)
        hasher.combine(bits.2)
        hasher.combine(bits.3)
    }
}

/// A context-free grammar over bytes: the one representation every constraint compiles to.
///
/// Each rule is a list of alternatives, each a sequence of elements: a byte class (one byte
/// from the set) or another rule. The alternatives are laid out flat in `elements`, each ended
/// by `.end`, so that a parse position is one index: what the matcher keeps on its stacks.
struct Grammar: Sendable {
    enum Element: Hashable, Sendable {
        case bytes(ByteClass)
        case rule(Int)
        case end
    }

    /// Every alternative of every rule, back to back, each closed by `.end`.
    let elements: [Element]
    /// The start index in `elements` of each alternative of each rule.
    let alternatives: [[Int32]]
    let root: Int
    /// Rule names, for messages.
    let names: [String]
}

/// Builds a `Grammar` rule by rule; rules may refer to rules defined later (recursion).
struct GrammarBuilder {
    enum Item: Hashable {
        case bytes(ByteClass)
        case rule(Int)
    }

    private(set) var rules: [[[Item]]?] = []
    private(set) var names: [String] = []
    /// Rules already made for a key (a literal, a repetition of a rule...), to share them.
    private var memo: [String: Int] = [:]

    /// A new, not yet defined rule.
    mutating func declare(_ name: String) -> Int {
        rules.append(nil)
        names.append(name)
        return rules.count - 1
    }

    mutating func define(_ rule: Int, _ alternatives: [[Item]]) {
        rules[rule] = alternatives
    }

    /// A rule with `alternatives`.
    mutating func rule(_ name: String, _ alternatives: [[Item]]) -> Int {
        let id = declare(name)
        define(id, alternatives)
        return id
    }

    /// The rule made for `key`, made by `make` the first time.
    mutating func memoized(_ key: String, _ make: (inout GrammarBuilder) throws -> Int) rethrows -> Int {
        if let id = memo[key] { return id }
        let id = try make(&self)
        memo[key] = id
        return id
    }

    func memoizedID(_ key: String) -> Int? { memo[key] }

    mutating func setMemo(_ key: String, _ id: Int) { memo[key] = id }

    /// The bytes of `text`, one class per byte.
    static func literal(_ text: String) -> [Item] {
        text.utf8.map { .bytes(.byte($0)) }
    }

    /// `item` repeated `min` to `max` times (nil: unbounded), as a chain of rules.
    mutating func repeated(_ item: Item, min: Int, max: Int?, name: String) -> [Item] {
        let required = [Item](repeating: item, count: min)
        guard let max else {
            let star = memoized("star \(item)") { builder in
                let id = builder.declare(name + "*")
                builder.define(id, [[item, .rule(id)], []])
                return id
            }
            return required + [.rule(star)]
        }
        guard max > min else { return required }
        // optional(k): ε | item optional(k-1)
        var tail: Int?
        for count in 1...(max - min) {
            let rest: [Item] = tail.map { [item, .rule($0)] } ?? [item]
            tail = memoized("opt\(count) \(item)") { builder in builder.rule(name + "?\(count)", [[], rest]) }
        }
        return required + [.rule(tail!)]
    }

    /// The finished grammar starting at `root`. Throws if a rule is referred to but never
    /// defined, or if a rule can derive itself without consuming a byte (left recursion), which
    /// a top-down matcher cannot run.
    func build(root: Int) throws -> Grammar {
        var elements: [Grammar.Element] = []
        var alternatives: [[Int32]] = []
        for (index, rule) in rules.enumerated() {
            guard let rule else { throw StructuredOutputError("the rule \(names[index]) is used but never defined") }
            var starts: [Int32] = []
            for alternative in rule {
                starts.append(Int32(elements.count))
                for item in alternative {
                    switch item {
                    case .bytes(let set): elements.append(.bytes(set))
                    case .rule(let id): elements.append(.rule(id))
                    }
                }
                elements.append(.end)
            }
            alternatives.append(starts)
        }
        try checkLeftRecursion()
        return Grammar(elements: elements, alternatives: alternatives, root: root, names: names)
    }

    private func checkLeftRecursion() throws {
        let rules = self.rules.map { $0 ?? [] }
        var nullable = [Bool](repeating: false, count: rules.count)
        var changed = true
        while changed {
            changed = false
            for (index, rule) in rules.enumerated() where !nullable[index] {
                let derivesEmpty = rule.contains { alternative in
                    alternative.allSatisfy { if case .rule(let id) = $0 { nullable[id] } else { false } }
                }
                if derivesEmpty {
                    nullable[index] = true
                    changed = true
                }
            }
        }
        // Edges to the rules that can come first in an alternative.
        let leftmost: [[Int]] = rules.map { rule in
            var targets: [Int] = []
            for alternative in rule {
                for item in alternative {
                    guard case .rule(let id) = item else { break }
                    targets.append(id)
                    if !nullable[id] { break }
                }
            }
            return targets
        }
        var state = [UInt8](repeating: 0, count: rules.count)  // 0 new, 1 on the path, 2 done
        func visit(_ rule: Int) throws {
            state[rule] = 1
            for next in leftmost[rule] {
                if state[next] == 1 { throw StructuredOutputError("the grammar is left-recursive at rule \(names[next])") }
                if state[next] == 0 { try visit(next) }
            }
            state[rule] = 2
        }
        for rule in rules.indices where state[rule] == 0 { try visit(rule) }
    }
}
