import Engine
import EngineCore
import Hummingbird

extension OpenAIServer {
    /// `POST /v1/chat/completions`.
    func chatCompletions(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let body = try JSONResponse.decode(ChatCompletionRequest.self, from: try await collectBody(&request))
        try checkModel(body.model)
        try body.validateShape()
        let info = model
        let logprobsField = body.topLogprobs != nil ? "top_logprobs" : "logprobs"
        let params = try body.sampling.samplingParams(defaultMaxTokens: nil, logprobs: try body.engineLogprobs(),
                                                      logprobsField: logprobsField, vocabularySize: info.vocabularySize,
                                                      maxN: configuration.maxN)
        let prompt = try chatPromptTokens(try body.chatMessages(), addGenerationPrompt: body.addGenerationPrompt)
        try checkLength(promptTokens: prompt.count, maxTokens: params.maxTokens,
                        maxTokensField: body.sampling.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens")
        let id = Self.makeID("chatcmpl")
        let generation = try startGeneration(baseID: id, prompts: [prompt], params: params)
        let stream = ChatStream(id: id, created: Self.unixTime(), model: info.name, n: params.n,
                                promptLengths: [prompt.count], wantsLogprobs: body.logprobs,
                                formatter: LogprobsFormatter(tokenizer: info.tokenizer))
        if body.stream {
            return sseResponse(request: request, generation: generation, builder: stream,
                               includeUsage: body.streamOptions?.includeUsage ?? false)
        }
        return try await collectResponse(request: request, generation: generation, choiceCount: params.n,
                                         body: stream.response)
    }

    /// The token ids of a conversation rendered with the model's chat template; a template
    /// error (such as its own `raise_exception`) is the client's 400.
    func chatPromptTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> [Int32] {
        guard let chatPrompt = model.chatPrompt else {
            throw OpenAIError.invalidRequest(
                "The model \(model.name) has no chat template; use /v1/completions with a plain prompt.",
                param: "messages")
        }
        let ids: [Int32]
        do {
            ids = try chatPrompt.tokenIDs(messages, tokenizer: model.tokenizer, addGenerationPrompt: addGenerationPrompt)
        } catch {
            throw OpenAIError.invalidRequest("The chat template could not render these messages: \(error)",
                                             param: "messages")
        }
        guard !ids.isEmpty else {
            throw OpenAIError.invalidRequest("The rendered conversation is empty.", param: "messages")
        }
        return ids
    }
}
