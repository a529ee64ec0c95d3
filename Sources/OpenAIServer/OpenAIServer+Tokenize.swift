import Hummingbird

extension OpenAIServer {
    /// `POST /tokenize`: the ids of a prompt or a rendered conversation.
    func tokenize(_ request: Request) async throws -> Response {
        var request = request
        let body = try JSONResponse.decode(TokenizeRequest.self, from: try await collectBody(&request))
        try checkModel(body.model)
        let ids: [Int32]
        switch (body.prompt, body.messages) {
        case (let prompt?, nil):
            ids = model.tokenizer.encode(prompt, addSpecialTokens: body.addSpecialTokens ?? true)
        case (nil, let messages?):
            let chat = try messages.enumerated().map { index, message in try message.chatMessage(index: index) }
            ids = try chatPrompt(chat, addGenerationPrompt: body.addGenerationPrompt ?? true).ids
        default:
            throw OpenAIError.invalidRequest("Give exactly one of prompt or messages.", param: "prompt")
        }
        return try JSONResponse.make(TokenizeResponse(count: ids.count, maxModelLen: model.maxModelLen,
                                                      tokens: ids.map(Int.init)))
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
