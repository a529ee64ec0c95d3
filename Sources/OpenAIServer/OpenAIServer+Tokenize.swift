import Hummingbird

extension OpenAIServer {
    /// `POST /tokenize`: the ids of a prompt or a rendered conversation.
    func tokenize(_ request: Request) async throws -> Response {
        var request = request
        let body = try JSONResponse.decode(TokenizeRequest.self, from: try await collectBody(&request))
        try checkModel(body.model)
        let ids: [Int32]
        let tokenizer = model.tokenizer
        switch (body.prompt, body.content, body.messages) {
        case (let prompt?, nil, nil):
            ids = tokenizer.encode(prompt, addSpecialTokens: body.addSpecialTokens ?? body.addSpecial ?? true)
        case (nil, let content?, nil):
            ids = tokenizer.encode(content, addSpecialTokens: body.addSpecial ?? body.addSpecialTokens ?? false)
        case (nil, nil, let messages?):
            let chat = try messages.enumerated().map { index, message in try message.chatMessage(index: index) }
            ids = try chatPrompt(chat, addGenerationPrompt: body.addGenerationPrompt ?? true).ids
        default:
            throw OpenAIError.invalidRequest("Give exactly one of prompt (or llama.cpp's content) or messages.",
                                             param: "prompt")
        }
        var response = TokenizeResponse(count: ids.count, maxModelLen: model.maxModelLen, tokens: ids.map(Int.init))
        if body.withPieces == true {
            response.pieces = ids.map { id in
                let bytes = tokenizer.tokenBytes(id) ?? Array(tokenizer.decode([id]).utf8)
                let text = String(validating: bytes, as: UTF8.self)
                return .init(id: Int(id), piece: text.map { .text($0) } ?? .bytes(bytes))
            }
        }
        if body.returnTokenStrs == true { response.tokenStrs = ids.map { tokenizer.tokenString($0) ?? "" } }
        return try JSONResponse.make(response)
    }

    /// `POST /detokenize`: the text of token ids (special tokens kept, as vLLM does).
    func detokenize(_ request: Request) async throws -> Response {
        var request = request
        let body = try JSONResponse.decode(DetokenizeRequest.self, from: try await collectBody(&request))
        try checkModel(body.model)
        let vocabularySize = model.vocabularySize
        let ids = try body.tokens.map { value -> Int32 in
            guard let id = Int32(exactly: value), id >= 0, Int(id) < vocabularySize else {
                throw OpenAIError.invalidRequest("token id \(value) is outside the vocabulary (0..<\(vocabularySize)).",
                                                 param: "tokens")
            }
            return id
        }
        return try JSONResponse.make(DetokenizeResponse(prompt: model.tokenizer.decode(ids, skipSpecialTokens: false)))
    }
}
