/// A compiled Hugging Face chat template (Jinja2). Renders byte-for-byte what transformers'
/// `apply_chat_template` renders with Python's jinja2: an immutable sandbox with `trim_blocks`,
/// `lstrip_blocks`, the loop-control extension and `{% generation %}`, `tojson` as
/// `json.dumps(ensure_ascii=False)`, and the globals `raise_exception` and `strftime_now`.
///
/// ```swift
/// let template = try ChatTemplate(source)
/// let prompt = try template.render(messages: [["role": "user", "content": "Hi"]],
///                                  addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
/// ```
public struct ChatTemplate: Sendable {
    /// The template text it was compiled from.
    public let source: String
    let nodes: [Node]

    /// Compiles `source`; throws a `.syntax` `ChatTemplateError` (with jinja2's message and the
    /// line) for a malformed template or an unknown filter or test, as jinja2 does at compile time.
    public init(_ source: String) throws {
        self.source = source
        self.nodes = try Parser.parse(source)
        try TreeWalker.walk(nodes, soft: false) { expression, soft in
            guard !soft else { return }
            switch expression {
            case .filter(_, let name, _, let line) where !Filters.isKnown(name):
                throw ChatTemplateError(.syntax, "No filter named \(pythonRepr(name)).", line: line)
            case .test(_, let name, _, let line) where !TemplateTests.isKnown(name):
                throw ChatTemplateError(.syntax, "No test named \(pythonRepr(name)).", line: line)
            default:
                break
            }
        }
    }

    /// Renders with `context` as the template's variables; `strftime_now` sees this machine's
    /// local time. Throws a `ChatTemplateError` (`.raised` carries a `raise_exception` message).
    public func render(_ context: [String: JinjaValue]) throws -> String {
        try render(context, time: .now())
    }

    /// Renders with `context` as the template's variables and `time` as what `strftime_now`
    /// formats; a render that would exceed `limits` throws a `.limit` error.
    public func render(
        _ context: [String: JinjaValue], time: TemplateTime, limits: RenderLimits = RenderLimits()
    ) throws -> String {
        var values: [String: Value] = [:]
        for (name, value) in context {
            values[name] = try Value(value, depth: 0)
        }
        return try Renderer(time: time, limits: limits).render(nodes, context: values)
    }

    /// Renders a conversation with the variables transformers passes: `messages`,
    /// `add_generation_prompt`, `bos_token`, `eos_token`, and `tools` and `documents` (None
    /// unless `extra` gives them); `extra` adds or overrides any variable (`enable_thinking`...).
    public func render(
        messages: [[String: JinjaValue]], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
        extra: [String: JinjaValue] = [:], time: TemplateTime = .now()
    ) throws -> String {
        var context: [String: JinjaValue] = [
            "messages": .array(messages.map { message in
                .dictionary(JinjaDictionary(message.sorted { Self.keyOrder($0.key, $1.key) }))
            }),
            "tools": .none,
            "documents": .none,
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ]
        context.merge(extra) { _, new in new }
        return try render(context, time: time)
    }

    /// A Swift dictionary has no order; give messages the order OpenAI clients send
    /// (role, content, then the rest alphabetically) so that `tojson` of a message is stable.
    private static func keyOrder(_ lhs: String, _ rhs: String) -> Bool {
        let leading = ["role", "content"]
        switch (leading.firstIndex(of: lhs), leading.firstIndex(of: rhs)) {
        case let (a?, b?): return a < b
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return lhs < rhs
        }
    }
}

extension Value {
    init(_ value: JinjaValue, depth: Int) throws {
        guard depth < maximumValueDepth else { throw depthError() }
        switch value {
        case .none: self = .none
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .list(try items.map { try Value($0, depth: depth + 1) })
        case .dictionary(let dictionary):
            var result = ValueDictionary()
            for (key, item) in dictionary.entries {
                result.set(key, try Value(item, depth: depth + 1))
            }
            self = .dict(result)
        }
    }
}
