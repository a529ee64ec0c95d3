import Engine
import EngineCore
import Hummingbird
import NIOCore

extension OpenAIServer {
    /// `POST /v1/completions`.
    func completions(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let raw = try await collectBody(&request)
        let body = try JSONResponse.decode(CompletionRequest.self, from: raw)
        try checkModel(body.model)
        try checkGenerates()
        try body.validateShape()
        let info = model
        var params = try body.sampling.samplingParams(defaultMaxTokens: 16, logprobs: body.logprobs,
                                                      logprobsField: "logprobs", vocabularySize: info.vocabularySize,
                                                      maxN: configuration.maxN)
        try body.vllm.apply(to: &params, tokenizer: info.tokenizer, vocabularySize: info.vocabularySize,
                            logprobsForEcho: body.echo ? body.logprobs : nil)
        var prompts: [[Int32]]
        switch body.prompt {
        case .text(let texts):
            prompts = texts.map { info.tokenizer.encode($0, addSpecialTokens: body.addSpecialTokens) }
        case .tokens(let lists):
            prompts = try lists.map { list in try list.map { try Self.promptTokenID($0, vocabularySize: info.vocabularySize) } }
        }
        prompts = try prompts.map { try body.vllm.truncated($0, maxModelLen: info.maxModelLen) }
        for prompt in prompts {
            guard !prompt.isEmpty else {
                throw OpenAIError.invalidRequest("prompt must contain at least one token.", param: "prompt")
            }
            try checkLength(promptTokens: prompt.count, maxTokens: params.maxTokens,
                            maxTokensField: body.sampling.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens")
        }
        let echoes: [String] = body.echo ? prompts.map { info.tokenizer.decode($0, skipSpecialTokens: false) } : []
        let grammar = try await grammar(forBody: raw, ignoreEOS: params.ignoreEOS)
        let id = Self.makeID("cmpl")
        let generation = try startGeneration(baseID: id, prompts: prompts, params: params, grammar: grammar)
        let stream = CompletionStream(
            id: id, created: Self.unixTime(), model: info.name, n: params.n, promptLengths: prompts.map(\.count),
            echoes: echoes, wantsLogprobs: body.logprobs != nil,
            formatter: LogprobsFormatter(tokenizer: info.tokenizer, tokensAsIDs: body.vllm.returnTokensAsTokenIDs),
            extras: ResponseExtras(promptTokenIDs: prompts, returnTokenIDs: body.vllm.returnTokenIDs,
                                   promptLogprobs: body.vllm.promptLogprobs != nil,
                                   continuousUsage: body.streamOptions?.continuousUsageStats ?? false))
        if body.stream {
            return sseResponse(request: request, generation: generation, builder: stream,
                               includeUsage: body.streamOptions?.includeUsage ?? false)
        }
        return try await collectResponse(request: request, generation: generation, choiceCount: prompts.count * params.n,
                                         body: stream.response)
    }

    /// A token id of a request's prompt (`field`: `prompt`, or `input` on the embedding routes).
    static func promptTokenID(_ value: Int, vocabularySize: Int, field: String = "prompt") throws -> Int32 {
        guard let id = Int32(exactly: value), id >= 0, Int(id) < vocabularySize else {
            throw OpenAIError.invalidRequest("\(field) token id \(value) is outside the vocabulary (0..<\(vocabularySize)).",
                                             param: field)
        }
        return id
    }
}
