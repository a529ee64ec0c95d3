import Engine

/// One message of a chat request. `content` is a string or a list of parts, of which only
/// `text` parts are served (joined with newlines, as vLLM does); it may be null for an
/// assistant message.
public struct ChatRequestMessage: Decodable, Sendable, Equatable {
    public var role: String
    public var content: Content?
    public var name: String?

    public enum Content: Decodable, Sendable, Equatable {
        case text(String)
        case parts([ContentPart])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .parts(try container.decode([ContentPart].self))
            }
        }
    }

    /// One element of a content list: `{"type": "text", "text": "..."}`.
    public struct ContentPart: Decodable, Sendable, Equatable {
        public var type: String
        public var text: String?
    }

    private static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    /// The message as the chat template takes it; a 400 names the message when it cannot be.
    func chatMessage(index: Int) throws -> ChatMessage {
        let field = "messages[\(index)]"
        guard Self.roles.contains(role) else {
            throw OpenAIError.invalidRequest(
                "\(field).role must be one of system, developer, user, assistant, tool; got \"\(role)\".",
                param: "\(field).role")
        }
        switch content {
        case nil:
            return ChatMessage(role: role, content: "")
        case .text(let text):
            return ChatMessage(role: role, content: text)
        case .parts(let parts):
            var texts: [String] = []
            for (partIndex, part) in parts.enumerated() {
                guard part.type == "text", let text = part.text else {
                    throw OpenAIError.invalidRequest(
                        "\(field).content[\(partIndex)] of type \(part.type) is not supported; only text parts are.",
                        param: "\(field).content")
                }
                texts.append(text)
            }
            return ChatMessage(role: role, content: texts.joined(separator: "\n"))
        }
    }
}
