import Foundation

/// A grammar run as a lazily built automaton over bytes, with the masks of its states.
///
/// A parse state is the set of stacks of grammar positions that the bytes so far allow (each
/// stack's top is a byte class still to match; an empty stack means the grammar may end), as
/// llama.cpp's GBNF matcher keeps them. States are interned to small ids, a byte's transition
/// from a state is computed once and remembered, and so is each state's token mask: requests
/// with one schema revisit the same states (inside a string the state does not depend on the
/// characters already written), so after warm-up a mask is a lookup and a copy.
final class GrammarAutomaton: @unchecked Sendable {
    // @unchecked Sendable: every mutable table is touched only under `lock`.
    let grammar: Grammar
    let vocabulary: TokenVocabulary
    private let lock = NSLock()
    private var stateIDs: [[[Int32]]: Int32] = [:]
    private var states: [[[Int32]]] = []
    private var accepting: [Bool] = []
    /// 256 entries a state: the next state, -1 for no parse, -2 not yet computed.
    private var transitions: [[Int32]] = []
    private var masks: [Int32: [UInt32]] = [:]
    private(set) var initialState: Int32 = -1
    /// Masks kept at most; beyond it the cache starts over.
    static let maskCacheLimit = 4096

    init(grammar: Grammar, vocabulary: TokenVocabulary) {
        self.grammar = grammar
        self.vocabulary = vocabulary
        var start = Set<[Int32]>()
        for alternative in grammar.alternatives[grammar.root] { expand([alternative], into: &start) }
        initialState = intern(start)
    }

    /// The stacks `stack` stands for once its top is a byte class (or it is empty).
    private func expand(_ stack: [Int32], into result: inout Set<[Int32]>) {
        guard let top = stack.last else {
            result.insert([])
            return
        }
        switch grammar.elements[Int(top)] {
        case .bytes:
            result.insert(stack)
        case .end:
            expand(Array(stack.dropLast()), into: &result)
        case .rule(let rule):
            var base = Array(stack.dropLast())
            // What follows the rule; nothing when the rule ends its alternative (so right
            // recursion, which repetitions use, keeps stacks flat).
            if grammar.elements[Int(top) + 1] != .end { base.append(top + 1) }
            for alternative in grammar.alternatives[rule] { expand(base + [alternative], into: &result) }
        }
    }

    private func intern(_ stacks: Set<[Int32]>) -> Int32 {
        guard !stacks.isEmpty else { return -1 }
        let key = stacks.sorted { $0.lexicographicallyPrecedes($1) }
        if let id = stateIDs[key] { return id }
        let id = Int32(states.count)
        stateIDs[key] = id
        states.append(key)
        accepting.append(stacks.contains([]))
        transitions.append([Int32](repeating: -2, count: 256))
        return id
    }

    /// The state after `byte`, or -1.
    private func step(_ state: Int32, _ byte: UInt8) -> Int32 {
        let known = transitions[Int(state)][Int(byte)]
        if known != -2 { return known }
        var next = Set<[Int32]>()
        for stack in states[Int(state)] {
            guard let top = stack.last, case .bytes(let set) = grammar.elements[Int(top)], set.contains(byte) else {
                continue
            }
            var advanced = stack
            advanced[advanced.count - 1] = top + 1
            expand(advanced, into: &next)
        }
        let id = intern(next)
        transitions[Int(state)][Int(byte)] = id
        return id
    }

    /// The state after `bytes`, or -1.
    func advance(_ state: Int32, _ bytes: [UInt8]) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        var current = state
        for byte in bytes {
            current = step(current, byte)
            if current < 0 { return -1 }
        }
        return current
    }

    func isAccepting(_ state: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return accepting[Int(state)]
    }

    /// The tokens that may follow `state` (EOS where the grammar may end), as a bitmask.
    func mask(_ state: Int32) -> [UInt32] {
        lock.lock()
        defer { lock.unlock() }
        if let mask = masks[state] { return mask }
        let mask = computeMask(state)
        if masks.count >= Self.maskCacheLimit { masks.removeAll(keepingCapacity: true) }
        masks[state] = mask
        return mask
    }

    /// Walks the token trie from the root, following each byte only while a parse survives.
    private func computeMask(_ state: Int32) -> [UInt32] {
        var words = [UInt32](repeating: 0, count: vocabulary.maskWordCount)
        let trie = vocabulary.trie
        var pending: [(node: Int32, state: Int32)] = [(0, state)]
        while let (node, current) = pending.popLast() {
            for edge in Int(trie.childStart[Int(node)])..<Int(trie.childStart[Int(node) + 1]) {
                let next = step(current, trie.childBytes[edge])
                guard next >= 0 else { continue }
                let child = trie.childNodes[edge]
                for index in Int(trie.tokenStart[Int(child)])..<Int(trie.tokenStart[Int(child) + 1]) {
                    let token = Int(trie.tokens[index])
                    words[token >> 5] |= 1 << UInt32(token & 31)
                }
                pending.append((child, next))
            }
        }
        if accepting[Int(state)] {
            for token in vocabulary.eosTokenIDs { words[Int(token) >> 5] |= 1 << UInt32(token & 31) }
        }
        return words
    }

    /// Distinct parse states met so far (for reports and tests).
    var stateCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return states.count
    }
}
