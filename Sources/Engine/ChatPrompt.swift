import ChatTemplates
import Tokenization

/// One chat message.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    /// Further fields the template sees as they were sent: an assistant's `tool_calls`, a tool
    /// result's `tool_call_id` and `name`.
    public var extra: JinjaDictionary
    public init(role: String, content: String, extra: JinjaDictionary = [:]) {
        self.role = role
        self.content = content
        self.extra = extra
    }
}

/// Renders conversations with the model's own chat template and tokenizes them as
/// transformers' `apply_chat_template` does (the template supplies any BOS itself).
public struct ChatPrompt: Sendable {
    public let template: ChatTemplate
    private let bosToken: String
    private let eosToken: String

    /// - Parameter source: the template's source; nil = the tokenizer's own.
    public init(tokenizer: Tokenizer, template source: String? = nil) throws {
        guard let source = source ?? tokenizer.chatTemplate else {
            throw EngineError("this model has no chat template; give one with --chat-template, or use a plain prompt")
        }
        template = try ChatTemplate(source)
        bosToken = tokenizer.bosToken ?? ""
        eosToken = tokenizer.eosToken ?? ""
    }

    /// The rendered text of `messages`, ending with the assistant's turn opener when
    /// `addGenerationPrompt` is set; `tools` is the template's `tools` variable (the function
    /// definitions as the client sent them), none when nil.
    /// `extra` adds template variables (vLLM's `chat_template_kwargs`, `enable_thinking`...).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, tools: JinjaValue? = nil,
                       extra: [String: JinjaValue] = [:]) throws -> String
    {
        let values: [[String: JinjaValue]] = messages.map { message in
            var value: [String: JinjaValue] = ["role": .string(message.role), "content": .string(message.content)]
            for (key, field) in message.extra.entries { value[key] = field }
            return value
        }
        return try template.render(messages: values, addGenerationPrompt: addGenerationPrompt,
                                   bosToken: bosToken, eosToken: eosToken,
                                   extra: extra.merging(tools.map { ["tools": $0] } ?? [:]) { $1 })
    }

    /// The chat prompt of a loaded model, with the template it was loaded with.
    public init(model: LoadedModel) throws {
        try self.init(tokenizer: model.tokenizer, template: model.chatTemplate)
    }

    /// The token ids of the rendered conversation.
    public func tokenIDs(_ messages: [ChatMessage], tokenizer: Tokenizer, addGenerationPrompt: Bool = true,
                         tools: JinjaValue? = nil) throws -> [Int32] {
        tokenizer.encode(try render(messages, addGenerationPrompt: addGenerationPrompt, tools: tools),
                         addSpecialTokens: false)
    }
}
