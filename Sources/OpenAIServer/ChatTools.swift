import ChatTemplates
import OrderedJSON
import StructuredOutputs

/// The tool-calling fields of a chat request (`tools`, `tool_choice`, `parallel_tool_calls`),
/// read from the body as `OrderedJSON` so that function schemas keep the order the client wrote
/// (templates print them with `tojson`; the constrained output follows it).
struct ChatTools {
    /// How the model may call tools.
    enum Choice: Equatable {
        /// Answer in text (the tools are not shown to the model).
        case none
        /// The model decides; its text is parsed for calls in the format of the tool parser.
        case auto
        /// At least one call: the output is constrained to a JSON list of calls.
        case required
        /// Exactly one call of this function: the output is constrained to its arguments.
        case named(String)
    }

    /// Each tool's `function` object: `name`, `description`, `parameters`.
    let functions: [JSONObject]
    /// The `tools` list as sent, for the template.
    let definitions: [JSON]
    let choice: Choice
    let parallelCalls: Bool

    /// The tools of `body`, nil when it has none; a 400 names the field when they are malformed
    /// or do not fit together (a named or `required` choice without tools, an unknown name).
    static func parse(_ body: JSON) throws -> ChatTools? {
        let tools = body["tools"].flatMap { $0.isNull ? nil : $0 }
        let choiceValue = body["tool_choice"].flatMap { $0.isNull ? nil : $0 }
        var functions: [JSONObject] = []
        if let tools {
            guard let list = tools.array else {
                throw OpenAIError.invalidRequest("tools must be a list of tool objects.", param: "tools")
            }
            for (index, tool) in list.enumerated() {
                guard tool["type"]?.string ?? "function" == "function", let function = tool["function"]?.object,
                      let name = function["name"]?.string, !name.isEmpty
                else {
                    throw OpenAIError.invalidRequest(
                        "tools[\(index)] must be {\"type\": \"function\", \"function\": {\"name\": ...}}.", param: "tools")
                }
                if let parameters = function["parameters"], parameters.object == nil, !parameters.isNull {
                    throw OpenAIError.invalidRequest("tools[\(index)].function.parameters must be a JSON Schema object.",
                                                     param: "tools")
                }
                if functions.contains(where: { $0["name"]?.string == name }) {
                    throw OpenAIError.invalidRequest("tools has two functions named \(JSON.quoted(name)).", param: "tools")
                }
                functions.append(function)
            }
        }
        let choice = try Self.choice(choiceValue, hasTools: !functions.isEmpty)
        if case .named(let name) = choice, !functions.contains(where: { $0["name"]?.string == name }) {
            throw OpenAIError.invalidRequest("tool_choice names the function \(JSON.quoted(name)), which is not in tools.",
                                             param: "tool_choice")
        }
        guard !functions.isEmpty else { return nil }
        let parallel = body["parallel_tool_calls"]?.bool ?? true
        return ChatTools(functions: functions, definitions: tools?.array ?? [], choice: choice, parallelCalls: parallel)
    }

    private static func choice(_ value: JSON?, hasTools: Bool) throws -> Choice {
        guard let value else { return hasTools ? .auto : .none }
        let choice: Choice
        switch value {
        case .string("none"): choice = .none
        case .string("auto"): choice = .auto
        case .string("required"): choice = .required
        case .object(let object):
            guard object["type"]?.string ?? "function" == "function", let name = object["function"]?["name"]?.string else {
                throw OpenAIError.invalidRequest(
                    "tool_choice must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}.",
                    param: "tool_choice")
            }
            choice = .named(name)
        default:
            throw OpenAIError.invalidRequest("tool_choice must be none, auto, required or a named function.",
                                             param: "tool_choice")
        }
        if !hasTools, choice != .none {
            throw OpenAIError.invalidRequest("tool_choice \(value.serialized()) needs a non-empty tools list.",
                                             param: "tool_choice")
        }
        return choice
    }

    /// The template's `tools` variable; none when the choice is `none` (the model answers in text).
    var templateValue: JinjaValue? {
        choice == .none ? nil : .array(definitions.map(JinjaValue.init))
    }

    /// The structured-output constraint the choice implies: a named function's arguments, or
    /// for `required` a list of calls (one unless parallel calls are allowed), as vLLM builds it.
    var constraint: StructuredConstraint? {
        switch choice {
        case .none, .auto:
            return nil
        case .named(let name):
            let function = functions.first { $0["name"]?.string == name }
            return .jsonSchema(Self.parameters(of: function), whitespace: .flexible)
        case .required:
            let calls = functions.map { function -> JSON in
                .object(JSONObject([
                    ("type", .string("object")),
                    ("properties", .object(JSONObject([
                        ("name", .object(JSONObject([("type", .string("string")), ("const", function["name"] ?? .null)]))),
                        ("parameters", Self.parameters(of: function)),
                    ]))),
                    ("required", .array([.string("name"), .string("parameters")])),
                    ("additionalProperties", .bool(false)),
                ]))
            }
            var list: [(String, JSON)] = [
                ("type", .string("array")), ("minItems", .number(JSONNumber(1))),
                ("items", calls.count == 1 ? calls[0] : .object(JSONObject([("anyOf", .array(calls))]))),
            ]
            if !parallelCalls { list.append(("maxItems", .number(JSONNumber(1)))) }
            return .jsonSchema(.object(JSONObject(list)), whitespace: .flexible)
        }
    }

    /// A function's parameter schema; a function without one takes an empty object.
    private static func parameters(of function: JSONObject?) -> JSON {
        if let parameters = function?["parameters"], parameters.object != nil { return parameters }
        return .object(JSONObject([("type", .string("object")), ("properties", .object(JSONObject()))]))
    }

    /// The extra template fields of `messages[index]` in the body: an assistant's `tool_calls`
    /// (arguments given to the template as objects, as vLLM does, where they parse), a tool
    /// result's `tool_call_id` and `name`. A null `content` stays the empty string: templates such
    /// as SmolLM2's concatenate it.
    static func messageExtras(_ message: JSON) throws -> JinjaDictionary {
        var extra = JinjaDictionary()
        if let calls = message["tool_calls"], !calls.isNull {
            guard let list = calls.array else {
                throw OpenAIError.invalidRequest("tool_calls must be a list.", param: "messages")
            }
            extra["tool_calls"] = .array(list.map { call in
                guard case .object(var object) = call, case .object(var function)? = object["function"],
                      let arguments = function["arguments"]?.string, let parsed = try? JSON(parsing: arguments)
                else { return JinjaValue(call) }
                function["arguments"] = parsed
                object["function"] = .object(function)
                return JinjaValue(.object(object))
            })
        }
        for key in ["tool_call_id", "name"] {
            if let value = message[key]?.string { extra[key] = .string(value) }
        }
        return extra
    }
}

extension JinjaValue {
    /// The template value of a JSON value, members in order.
    init(_ json: JSON) {
        switch json {
        case .null: self = .none
        case .bool(let flag): self = .bool(flag)
        case .number(let number):
            if let whole = number.int64, let int = Int(exactly: whole), !number.text.contains(".") { self = .int(int) }
            else { self = .double(number.double) }
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(JinjaValue.init))
        case .object(let object): self = .dictionary(JinjaDictionary(object.map { ($0.key, JinjaValue($0.value)) }))
        }
    }
}
