import OrderedJSON

/// Speculative decoding as vLLM's `--speculative-config` JSON sets it.
///
/// Taken: `method` (`ngram`, or `draft_model` with `model`), `num_speculative_tokens`,
/// `prompt_lookup_min` / `prompt_lookup_max` (ngram; vLLM's defaults: both 5 when neither is
/// given, else the one given for both), `disable_by_batch_size` (no drafts while more
/// requests than this run). Tern adds `adaptive` (default true): draft lengths follow the
/// measured acceptance and step cost, down to none. EAGLE, Medusa and MTP heads are refused:
/// Tern loads no such checkpoints.
public struct SpeculativeConfig: Sendable, Equatable {
    public enum Method: String, Sendable, Equatable {
        case ngram
        case draftModel = "draft_model"
    }

    public var method: Method
    /// Most draft tokens a request gets in one step (k).
    public var numSpeculativeTokens: Int
    public var promptLookupMin: Int
    public var promptLookupMax: Int
    /// The draft model's path (draft_model).
    public var model: String?
    /// No drafts while more requests than this are running.
    public var disableByBatchSize: Int?
    public var adaptive: Bool

    public init(method: Method, numSpeculativeTokens: Int, promptLookupMin: Int = 5, promptLookupMax: Int = 5,
                model: String? = nil, disableByBatchSize: Int? = nil, adaptive: Bool = true) {
        self.method = method
        self.numSpeculativeTokens = numSpeculativeTokens
        self.promptLookupMin = promptLookupMin
        self.promptLookupMax = promptLookupMax
        self.model = model
        self.disableByBatchSize = disableByBatchSize
        self.adaptive = adaptive
    }

    /// The largest k taken: each draft is a logits row and a verified position.
    public static let maxSpeculativeTokens = 32

    /// Parses and checks the JSON; errors name the field.
    public init(json text: String) throws(SpeculativeConfigError) {
        let json: JSON
        do { json = try JSON(parsing: text) } catch { throw SpeculativeConfigError("not valid JSON: \(error)") }
        guard let object = json.object else { throw SpeculativeConfigError("must be a JSON object, got \(json.typeName)") }
        let known = ["method", "num_speculative_tokens", "prompt_lookup_min", "prompt_lookup_max", "model",
                     "disable_by_batch_size", "adaptive"]
        for key in object.keys where !known.contains(key) {
            throw SpeculativeConfigError("\"\(key)\" is not supported (Tern takes \(known.joined(separator: ", ")))")
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws(SpeculativeConfigError) -> Int? {
            guard let value = json[key], !value.isNull else { return nil }
            guard let number = value.number, number.isInteger, let int = number.int64.flatMap({ Int(exactly: $0) }),
                  range.contains(int) else {
                throw SpeculativeConfigError("\"\(key)\" must be an integer in \(range.lowerBound)...\(range.upperBound), got \(value.serialized())")
            }
            return int
        }
        let model = json["model"]?.string
        if let value = json["model"], !value.isNull, model == nil {
            throw SpeculativeConfigError("\"model\" must be a string, got \(value.typeName)")
        }
        let methodName = json["method"]?.string ?? (model == "ngram" || model == "[ngram]" ? "ngram" : model != nil ? "draft_model" : nil)
        guard let methodName else { throw SpeculativeConfigError("\"method\" is required (ngram or draft_model)") }
        switch methodName {
        case "ngram", "[ngram]": method = .ngram
        case "draft_model": method = .draftModel
        case "eagle", "eagle3", "medusa", "mlp_speculator", "mtp", "deepseek_mtp":
            throw SpeculativeConfigError("method \"\(methodName)\" needs draft heads from a checkpoint, which Tern does not load; use ngram or draft_model")
        default:
            throw SpeculativeConfigError("unknown method \"\(methodName)\" (ngram or draft_model)")
        }
        guard let k = try integer("num_speculative_tokens", in: 1...Self.maxSpeculativeTokens) else {
            throw SpeculativeConfigError("\"num_speculative_tokens\" is required")
        }
        numSpeculativeTokens = k
        let lookupMin = try integer("prompt_lookup_min", in: 1...1024)
        let lookupMax = try integer("prompt_lookup_max", in: 1...1024)
        promptLookupMin = lookupMin ?? lookupMax ?? 5
        promptLookupMax = lookupMax ?? lookupMin ?? 5
        if promptLookupMin > promptLookupMax {
            throw SpeculativeConfigError("\"prompt_lookup_min\" (\(promptLookupMin)) exceeds \"prompt_lookup_max\" (\(promptLookupMax))")
        }
        self.model = method == .draftModel ? model : nil
        if method == .draftModel && model == nil {
            throw SpeculativeConfigError("method draft_model needs \"model\": the draft model's path")
        }
        disableByBatchSize = try integer("disable_by_batch_size", in: 1...Int(Int32.max))
        if let value = json["adaptive"], !value.isNull {
            guard let flag = value.bool else { throw SpeculativeConfigError("\"adaptive\" must be true or false, got \(value.serialized())") }
            adaptive = flag
        } else {
            adaptive = true
        }
    }
}

/// A `--speculative-config` that Tern cannot run, in one line.
public struct SpeculativeConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "speculative config: \(message)" }
}
