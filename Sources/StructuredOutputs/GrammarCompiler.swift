import Foundation
import OrderedJSON

/// How JSON may be laid out between tokens.
public enum JSONWhitespace: Hashable, Sendable {
    /// No whitespace at all: `{"a":1}`.
    case compact
    /// Up to `JSONWhitespace.flexibleLimit` spaces, tabs or newlines wherever JSON allows them.
    /// Bounded, because a small model given unbounded whitespace can emit it forever.
    case flexible

    /// The most whitespace characters in one place under `.flexible`.
    public static let flexibleLimit = 12
}

/// What a structured output must be.
public enum StructuredConstraint: Hashable, Sendable {
    /// A value valid under a JSON Schema (`true` or an object).
    case jsonSchema(JSON, whitespace: JSONWhitespace = .flexible)
    /// Any JSON object.
    case jsonObject(whitespace: JSONWhitespace = .flexible)
    /// A string fully matching a regular expression.
    case regex(String)
    /// Exactly one of these strings.
    case choice([String])
    /// A string of llama.cpp's GBNF grammar.
    case grammar(String)
}

/// A constraint compiled for one vocabulary; matchers made from it share its automaton and
/// masks (so requests with one schema warm each other up).
public final class CompiledGrammar: Sendable {
    let automaton: GrammarAutomaton
    public let constraint: StructuredConstraint

    init(automaton: GrammarAutomaton, constraint: StructuredConstraint) {
        self.automaton = automaton
        self.constraint = constraint
    }

    public var vocabulary: TokenVocabulary { automaton.vocabulary }
}

/// Compiles constraints for one vocabulary and keeps the most recently used ones.
///
/// Thread-safe; compiling takes time linear in the constraint and computes the first mask, so
/// callers run it off the engine thread.
public final class GrammarCompiler: @unchecked Sendable {
    // @unchecked Sendable: `cache` and `order` are touched only under `lock`.
    public let vocabulary: TokenVocabulary
    private let capacity: Int
    private let lock = NSLock()
    private var cache: [StructuredConstraint: CompiledGrammar] = [:]
    private var order: [StructuredConstraint] = []

    public init(vocabulary: TokenVocabulary, cacheCapacity: Int = 128) {
        self.vocabulary = vocabulary
        capacity = max(cacheCapacity, 1)
    }

    /// The compiled form of `constraint`, from the cache when it was compiled before.
    /// - Throws: `StructuredOutputError` naming what is invalid or unsupported.
    public func compile(_ constraint: StructuredConstraint) throws -> CompiledGrammar {
        if let cached = lookup(constraint) { return cached }
        let grammar: Grammar
        switch constraint {
        case .jsonSchema(let schema, let whitespace):
            grammar = try JSONSchemaCompiler.compile(schema, whitespace: whitespace)
        case .jsonObject(let whitespace):
            grammar = try JSONSchemaCompiler.compile(.object(JSONObject([("type", .string("object"))])), whitespace: whitespace)
        case .regex(let pattern):
            var builder = GrammarBuilder()
            let items = builder.items(for: try RegexCompiler.parse(pattern), spelling: .raw, name: "regex")
            let root = builder.rule("root", [items])
            grammar = try builder.build(root: root)
        case .choice(let choices):
            guard !choices.isEmpty else { throw StructuredOutputError("choice needs at least one string") }
            var builder = GrammarBuilder()
            let root = builder.rule("root", choices.map(GrammarBuilder.literal))
            grammar = try builder.build(root: root)
        case .grammar(let text):
            grammar = try GBNFParser.parse(text)
        }
        let automaton = GrammarAutomaton(grammar: grammar, vocabulary: vocabulary)
        guard automaton.initialState >= 0 else {
            throw StructuredOutputError("no value is valid under this constraint (it matches nothing)")
        }
        _ = automaton.mask(automaton.initialState)
        let compiled = CompiledGrammar(automaton: automaton, constraint: constraint)
        store(compiled, for: constraint)
        return compiled
    }

    private func lookup(_ constraint: StructuredConstraint) -> CompiledGrammar? {
        lock.lock()
        defer { lock.unlock() }
        guard let hit = cache[constraint] else { return nil }
        order.removeAll { $0 == constraint }
        order.append(constraint)
        return hit
    }

    private func store(_ compiled: CompiledGrammar, for constraint: StructuredConstraint) {
        lock.lock()
        defer { lock.unlock() }
        if cache[constraint] == nil, cache.count >= capacity, let oldest = order.first {
            order.removeFirst()
            cache[oldest] = nil
        }
        cache[constraint] = compiled
        order.removeAll { $0 == constraint }
        order.append(constraint)
    }
}

/// The state of one request under a constraint: which tokens may come next, advanced by each
/// token it samples. Used from one thread at a time (the engine loop).
public final class GrammarMatcher {
    public let grammar: CompiledGrammar
    private var state: Int32
    private var history: [Int32] = []
    public private(set) var isTerminated = false
    /// Accepted tokens that `rollback` can undo.
    public static let historyLimit = 64

    public init(_ grammar: CompiledGrammar) {
        self.grammar = grammar
        state = grammar.automaton.initialState
    }

    /// Words of this matcher's bitmask.
    public var maskWordCount: Int { grammar.vocabulary.maskWordCount }

    /// Whether the grammar may end here (then EOS tokens are allowed).
    public var canTerminate: Bool { !isTerminated && grammar.automaton.isAccepting(state) }

    /// Writes the allowed next tokens: bit `id % 32` of word `id / 32`; words past the
    /// vocabulary (logit rows wider than it) are zeroed. After EOS only EOS stays allowed.
    public func fillNextTokenBitmask(_ words: UnsafeMutableBufferPointer<UInt32>) {
        for index in words.indices { words[index] = 0 }
        if isTerminated {
            for token in grammar.vocabulary.eosTokenIDs where Int(token) >> 5 < words.count {
                words[Int(token) >> 5] |= 1 << UInt32(token & 31)
            }
            return
        }
        let mask = grammar.automaton.mask(state)
        for index in 0..<min(mask.count, words.count) { words[index] = mask[index] }
    }

    /// Advances by token `id`; false (and no change) if the grammar does not allow it.
    @discardableResult
    public func acceptToken(_ id: Int32) -> Bool {
        guard !isTerminated else { return false }
        let vocabulary = grammar.vocabulary
        if vocabulary.eosTokenIDs.contains(id) {
            guard grammar.automaton.isAccepting(state) else { return false }
            remember()
            isTerminated = true
            return true
        }
        guard id >= 0, Int(id) < vocabulary.count, let bytes = vocabulary.tokenBytes[Int(id)], !bytes.isEmpty else {
            return false
        }
        let next = grammar.automaton.advance(state, bytes)
        guard next >= 0 else { return false }
        remember()
        state = next
        return true
    }

    /// Whether `text` is accepted from the current state to an accepting one (for tests and
    /// checks; the state does not change).
    public func accepts(bytes: [UInt8]) -> Bool {
        let end = grammar.automaton.advance(state, bytes)
        return end >= 0 && grammar.automaton.isAccepting(end)
    }

    /// Whether `bytes` can continue the output from the current state (a prefix of a match).
    public func allows(prefix bytes: [UInt8]) -> Bool {
        grammar.automaton.advance(state, bytes) >= 0
    }

    private func remember() {
        history.append(state)
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
    }

    /// Undoes the last `tokens` accepted tokens (at most `historyLimit`).
    public func rollback(tokens: Int) {
        for _ in 0..<min(tokens, history.count) {
            // The token undone last was EOS if the matcher has terminated.
            state = history.removeLast()
            isTerminated = false
        }
    }

    /// Back to the start.
    public func reset() {
        state = grammar.automaton.initialState
        history.removeAll()
        isTerminated = false
    }
}
