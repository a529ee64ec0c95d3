/// The body of `GET /v1/models`.
public struct ModelList: Codable, Sendable, Equatable {
    public var object = "list"
    public var data: [ModelCard]
}

/// One served model, with vLLM's extra `root` and `max_model_len`.
public struct ModelCard: Codable, Sendable, Equatable {
    public var id: String
    public var object = "model"
    public var created: Int
    public var ownedBy = "tern"
    public var root: String
    public var maxModelLen: Int

    enum CodingKeys: String, CodingKey {
        case id, object, created, root
        case ownedBy = "owned_by"
        case maxModelLen = "max_model_len"
    }

    public init(id: String, created: Int, root: String, maxModelLen: Int) {
        self.id = id
        self.created = created
        self.root = root
        self.maxModelLen = maxModelLen
    }
}
