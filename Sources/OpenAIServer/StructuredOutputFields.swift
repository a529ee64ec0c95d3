import Dispatch
import Engine
import OrderedJSON
import StructuredOutputs

/// The structured-output fields of a request, in every spelling clients send: OpenAI's
/// `response_format` (json_object, json_schema), vLLM's `structured_outputs` object (`json`,
/// `regex`, `choice`, `grammar`, `json_object`, `disable_any_whitespace`) and its older
/// `guided_json` / `guided_regex` / `guided_choice` / `guided_grammar` fields, and llama.cpp's
/// `grammar` and `json_schema`.
///
/// They are read from the body as `OrderedJSON`, not through `Decodable`, so that a schema's
/// properties keep the order the client wrote (the order the output's keys follow).
enum StructuredOutputFields {
    /// Top-level names that carry a constraint; a body without any of them is not parsed again.
    static let fieldNames = [
        "response_format", "structured_outputs", "guided_json", "guided_regex", "guided_choice", "guided_grammar",
        "grammar", "json_schema",
    ]

    /// The one constraint `body` asks for and the field it came in, or nil.
    /// - Throws: `OpenAIError` (400) naming the field: a wrong type, an unknown key, or two
    ///   constraints at once.
    static func constraint(in rawBody: [UInt8]) throws -> (field: String, constraint: StructuredConstraint)? {
        let text = String(decoding: rawBody, as: UTF8.self)
        guard fieldNames.contains(where: { text.contains("\"\($0)\"") }) else { return nil }
        let body: JSON
        do {
            body = try JSON(parsing: rawBody)
        } catch {
            throw OpenAIError.invalidRequest("The request body is not valid JSON: \(error).")
        }
        var found: [(field: String, constraint: StructuredConstraint)] = []
        if let format = body["response_format"], !format.isNull {
            if let constraint = try responseFormat(format) { found.append(("response_format", constraint)) }
        }
        if let options = body["structured_outputs"], !options.isNull {
            found += try structuredOutputs(options).map { ("structured_outputs.\($0.field)", $0.constraint) }
        }
        let whitespace: JSONWhitespace = .flexible
        for (field, make) in [
            ("guided_json", { (value: JSON) in try jsonSchema(value, field: "guided_json", whitespace: whitespace) }),
            ("json_schema", { (value: JSON) in try jsonSchema(value, field: "json_schema", whitespace: whitespace) }),
            ("guided_regex", { (value: JSON) in .regex(try string(value, field: "guided_regex")) }),
            ("guided_choice", { (value: JSON) in .choice(try choices(value, field: "guided_choice")) }),
            ("guided_grammar", { (value: JSON) in .grammar(try string(value, field: "guided_grammar")) }),
            ("grammar", { (value: JSON) in .grammar(try string(value, field: "grammar")) }),
        ] as [(String, (JSON) throws -> StructuredConstraint)] {
            if let value = body[field], !value.isNull { found.append((field, try make(value))) }
        }
        guard found.count <= 1 else {
            throw OpenAIError.invalidRequest(
                "Only one structured-output constraint may be given, got \(found.map(\.field).joined(separator: " and ")).",
                param: found[1].field)
        }
        return found.first
    }

    /// Compiles `constraint` for the served model on a worker thread (a large schema can take
    /// a while; neither the engine loop nor the HTTP threads wait on it).
    static func compile(_ constraint: StructuredConstraint, with compiler: GrammarCompiler,
                        field: String) async throws -> CompiledGrammar {
        let result: Result<CompiledGrammar, any Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { try compiler.compile(constraint) })
            }
        }
        do {
            return try result.get()
        } catch let error as StructuredOutputError {
            throw OpenAIError.invalidRequest("Invalid \(field): \(error)", param: field)
        }
    }

    private static func responseFormat(_ format: JSON) throws -> StructuredConstraint? {
        guard let type = format["type"]?.string else {
            throw OpenAIError.invalidRequest("response_format.type must be a string.", param: "response_format")
        }
        switch type {
        case "text":
            return nil
        case "json_object":
            return .jsonObject(whitespace: .flexible)
        case "json_schema":
            guard let schema = format["json_schema"]?["schema"] else {
                throw OpenAIError.invalidRequest("response_format of type json_schema needs json_schema.schema.",
                                                 param: "response_format")
            }
            return try jsonSchema(schema, field: "response_format", whitespace: .flexible)
        default:
            throw OpenAIError.invalidRequest(
                "response_format.type must be text, json_object or json_schema, got \(JSON.quoted(type)).",
                param: "response_format")
        }
    }

    /// vLLM's `StructuredOutputsParams`: exactly one of its constraint keys.
    private static func structuredOutputs(_ options: JSON) throws -> [(field: String, constraint: StructuredConstraint)] {
        guard let members = options.object else {
            throw OpenAIError.invalidRequest("structured_outputs must be an object.", param: "structured_outputs")
        }
        let known: Set<String> = ["json", "regex", "choice", "grammar", "json_object", "disable_any_whitespace",
                                  "disable_fallback", "disable_additional_properties", "whitespace_pattern",
                                  "structural_tag", "backend"]
        if let unknown = members.keys.first(where: { !known.contains($0) }) {
            throw OpenAIError.invalidRequest("structured_outputs has an unknown key \(JSON.quoted(unknown)).",
                                             param: "structured_outputs")
        }
        for unsupported in ["whitespace_pattern", "structural_tag"] where !(members[unsupported]?.isNull ?? true) {
            throw OpenAIError.invalidRequest("structured_outputs.\(unsupported) is not supported.",
                                             param: "structured_outputs")
        }
        let compact = members["disable_any_whitespace"]?.bool ?? false
        let whitespace: JSONWhitespace = compact ? .compact : .flexible
        var found: [(String, StructuredConstraint)] = []
        for (key, value) in members where !value.isNull {
            let field = "structured_outputs.\(key)"
            switch key {
            case "json": found.append((key, try jsonSchema(value, field: field, whitespace: whitespace)))
            case "regex": found.append((key, .regex(try string(value, field: field))))
            case "choice": found.append((key, .choice(try choices(value, field: field))))
            case "grammar": found.append((key, .grammar(try string(value, field: field))))
            case "json_object":
                guard let on = value.bool else {
                    throw OpenAIError.invalidRequest("\(field) must be a boolean.", param: field)
                }
                if on { found.append((key, .jsonObject(whitespace: whitespace))) }
            default: break
            }
        }
        return found
    }

    /// A schema given as a JSON object (or `true`), or as JSON text in a string.
    private static func jsonSchema(_ value: JSON, field: String, whitespace: JSONWhitespace) throws -> StructuredConstraint {
        switch value {
        case .object, .bool:
            return .jsonSchema(value, whitespace: whitespace)
        case .string(let text):
            guard let schema = try? JSON(parsing: text), schema.object != nil || schema.bool != nil else {
                throw OpenAIError.invalidRequest("\(field) is a string that is not a JSON Schema object.", param: field)
            }
            return .jsonSchema(schema, whitespace: whitespace)
        default:
            throw OpenAIError.invalidRequest("\(field) must be a JSON Schema object, got \(value.typeName).", param: field)
        }
    }

    private static func string(_ value: JSON, field: String) throws -> String {
        guard let text = value.string else {
            throw OpenAIError.invalidRequest("\(field) must be a string, got \(value.typeName).", param: field)
        }
        return text
    }

    private static func choices(_ value: JSON, field: String) throws -> [String] {
        guard let array = value.array, !array.isEmpty else {
            throw OpenAIError.invalidRequest("\(field) must be a non-empty list of strings.", param: field)
        }
        return try array.map { element in
            guard let text = element.string else {
                throw OpenAIError.invalidRequest("\(field) must hold only strings, got \(element.typeName).", param: field)
            }
            return text
        }
    }
}
