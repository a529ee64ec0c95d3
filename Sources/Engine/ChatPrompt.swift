import ChatTemplates
import Tokenization

/// One chat message.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Renders conversations with the model's own chat template and tokenizes them as
/// transformers' `apply_chat_template` does (the template supplies any BOS itself).
public struct ChatPrompt: Sendable {
    public let template: ChatTemplate
    private let bosToken: String
    private let eosToken: String

    public init(tokenizer: Tokenizer) throws {
        guard let source = tokenizer.chatTemplate else {
            throw EngineError("this model has no chat template; use a plain prompt (without --chat)")
        }
        template = try ChatTemplate(source)
        bosToken = tokenizer.bosToken ?? ""
        eosToken = tokenizer.eosToken ?? ""
    }

    /// The rendered text of `messages`, ending with the assistant's turn opener when
    /// `addGenerationPrompt` is set.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        let values: [[String: JinjaValue]] = messages.map { ["role": .string($0.role), "content": .string($0.content)] }
        return try template.render(messages: values, addGenerationPrompt: addGenerationPrompt,
                                   bosToken: bosToken, eosToken: eosToken)
    }

    /// The token ids of the rendered conversation.
    public func tokenIDs(_ messages: [ChatMessage], tokenizer: Tokenizer, addGenerationPrompt: Bool = true) throws -> [Int32] {
        tokenizer.encode(try render(messages, addGenerationPrompt: addGenerationPrompt), addSpecialTokens: false)
    }
}
