import ChatTemplates
import Engine
import EngineCore
import Hummingbird
import NIOCore
import OrderedJSON
import ToolParsing

extension OpenAIServer {
    /// `POST /v1/chat/completions`.
    func chatCompletions(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let raw = try await collectBody(&request)
        let body = try JSONResponse.decode(ChatCompletionRequest.self, from: raw)
        try checkModel(body.model)
        try checkGenerates()
        try body.validateShape()
        let info = model
        let logprobsField = body.topLogprobs != nil ? "top_logprobs" : "logprobs"
        var params = try body.sampling.samplingParams(defaultMaxTokens: nil, logprobs: try body.engineLogprobs(),
                                                      logprobsField: logprobsField, vocabularySize: info.vocabularySize,
                                                      maxN: configuration.maxN)
        try body.vllm.apply(to: &params, tokenizer: info.tokenizer, vocabularySize: info.vocabularySize)
        let (messages, tools) = try chatMessagesAndTools(body, raw: raw)
        var prompt = try chatPrompt(messages, addGenerationPrompt: body.addGenerationPrompt, tools: tools?.templateValue,
                                    extra: try Self.chatTemplateKwargs(raw),
                                    continueFinalMessage: body.continueFinalMessage)
        prompt.ids = try body.vllm.truncated(prompt.ids, maxModelLen: info.maxModelLen)
        try checkLength(promptTokens: prompt.ids.count, maxTokens: params.maxTokens,
                        maxTokensField: body.sampling.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens")
        let toolMode = try toolMode(tools)
        // Tool-call and reasoning markers are often special tokens: the parsers need to see them.
        if toolMode.choice == .auto || configuration.reasoningParser != nil { params.skipSpecialTokens = false }
        var grammar = try await grammar(forBody: raw, ignoreEOS: params.ignoreEOS)
        if let tools, let constraint = tools.constraint {
            guard grammar == nil else {
                throw OpenAIError.invalidRequest("tool_choice \(tools.choice) cannot be combined with another "
                                                     + "structured-output constraint.", param: "tool_choice")
            }
            grammar = try await StructuredOutputFields.compile(constraint, with: info.grammarCompiler, field: "tools")
        }
        let reasoning = configuration.reasoningParser
        let promptText = prompt.text
        let id = Self.makeID("chatcmpl")
        let generation = try startGeneration(baseID: id, prompts: [prompt.ids], params: params, grammar: grammar)
        let stream = ChatStream(id: id, created: Self.unixTime(), model: info.name, n: params.n,
                                promptLengths: [prompt.ids.count], wantsLogprobs: body.logprobs,
                                formatter: LogprobsFormatter(tokenizer: info.tokenizer,
                                                             tokensAsIDs: body.vllm.returnTokensAsTokenIDs),
                                extras: ResponseExtras(promptTokenIDs: [prompt.ids], returnTokenIDs: body.vllm.returnTokenIDs,
                                                       promptLogprobs: body.vllm.promptLogprobs != nil,
                                                       continuousUsage: body.streamOptions?.continuousUsageStats ?? false),
                                echo: body.echo && messages.last?.role == "assistant" ? messages.last?.content ?? "" : "") {
            ChatMessageParser(reasoning: reasoning.map { $0.init(prompt: promptText) }, tools: toolMode.make())
        }
        if body.stream {
            return sseResponse(request: request, generation: generation, builder: stream,
                               includeUsage: body.streamOptions?.includeUsage ?? false)
        }
        return try await collectResponse(request: request, generation: generation, choiceCount: params.n,
                                         body: stream.response)
    }

    /// How each choice's text is read for tool calls; a `Sendable` recipe, made into a parser
    /// per choice.
    struct ToolModeRecipe: Sendable {
        let parser: (any ToolCallParser.Type)?
        let choice: ChatTools.Choice

        func make() -> ChatMessageParser.ToolMode {
            switch choice {
            case .none: .none
            case .auto: parser.map { .auto($0.init()) } ?? .none
            case .required: .required
            case .named(let name): .named(name)
            }
        }
    }

    /// The tool handling a request asks for; `auto` needs the server's tool-call parser, as in vLLM.
    func toolMode(_ tools: ChatTools?) throws -> ToolModeRecipe {
        guard let tools else { return ToolModeRecipe(parser: nil, choice: .none) }
        if tools.choice == .auto {
            guard configuration.enableAutoToolChoice, let parser = configuration.toolCallParser else {
                throw OpenAIError.invalidRequest(
                    "\"auto\" tool choice needs the server to run with --enable-auto-tool-choice and a --tool-call-parser "
                        + "(this one has \(configuration.enableAutoToolChoice ? "no parser for this model's template" : "them off")); "
                        + "send tool_choice \"required\" or a named function instead.", param: "tool_choice")
            }
            return ToolModeRecipe(parser: parser, choice: .auto)
        }
        return ToolModeRecipe(parser: nil, choice: tools.choice)
    }

    /// The conversation as the template takes it, with the tool fields that `Decodable` leaves
    /// out (read in order from the raw body), and the request's tools.
    func chatMessagesAndTools(_ body: ChatCompletionRequest, raw: ByteBuffer) throws -> ([ChatMessage], ChatTools?) {
        var messages = try body.chatMessages()
        let text = String(buffer: raw)
        guard ["\"tools\"", "\"tool_choice\"", "\"tool_calls\"", "\"tool_call_id\""].contains(where: text.contains) else {
            return (messages, nil)
        }
        let json: JSON
        do {
            json = try JSON(parsing: Array(raw.readableBytesView))
        } catch {
            throw OpenAIError.invalidRequest("The request body is not valid JSON: \(error).")
        }
        for (index, message) in (json["messages"]?.array ?? []).enumerated() where index < messages.count {
            messages[index].extra = try ChatTools.messageExtras(message)
        }
        return (messages, try ChatTools.parse(json))
    }

    /// A conversation rendered with the model's chat template, as text and token ids; a
    /// template error (such as its own `raise_exception`) is the client's 400.
    ///
    /// With `continueFinalMessage`, the text ends with the last message's content, as
    /// transformers renders it: whatever the template closes the message with is cut.
    func chatPrompt(_ messages: [ChatMessage], addGenerationPrompt: Bool, tools: JinjaValue? = nil,
                    extra: [String: JinjaValue] = [:], continueFinalMessage: Bool = false) throws
        -> (text: String, ids: [Int32])
    {
        guard let chatPrompt = model.chatPrompt else {
            throw OpenAIError.invalidRequest(
                "The model \(model.name) has no chat template; use /v1/completions with a plain prompt.",
                param: "messages")
        }
        var text: String
        do {
            text = try chatPrompt.render(messages, addGenerationPrompt: addGenerationPrompt, tools: tools, extra: extra)
        } catch {
            throw OpenAIError.invalidRequest("The chat template could not render these messages: \(error)",
                                             param: "messages")
        }
        if continueFinalMessage, let last = messages.last {
            let final = last.content.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !final.isEmpty, let range = text.range(of: final, options: .backwards) else {
                throw OpenAIError.invalidRequest("continue_final_message: the chat template does not write the last "
                                                     + "message's content as given, so it cannot be continued.",
                                                 param: "continue_final_message")
            }
            text = String(text[..<range.upperBound])
        }
        let ids = model.tokenizer.encode(text, addSpecialTokens: false)
        guard !ids.isEmpty else {
            throw OpenAIError.invalidRequest("The rendered conversation is empty.", param: "messages")
        }
        return (text, ids)
    }

    /// vLLM's `chat_template_kwargs`: extra template variables (a JSON object).
    static func chatTemplateKwargs(_ raw: ByteBuffer) throws -> [String: JinjaValue] {
        guard String(buffer: raw).contains("\"chat_template_kwargs\"") else { return [:] }
        guard let json = try? JSON(parsing: Array(raw.readableBytesView)), let value = json["chat_template_kwargs"] else {
            return [:]
        }
        if case .null = value { return [:] }
        guard let object = value.object else {
            throw OpenAIError.invalidRequest("chat_template_kwargs must be an object.", param: "chat_template_kwargs")
        }
        var kwargs: [String: JinjaValue] = [:]
        for (key, field) in object { kwargs[key] = JinjaValue(field) }
        return kwargs
    }
}
