import OrderedJSON

/// JSON Schema (draft 7 to 2020-12, the parts that shape a value) compiled into grammar rules.
///
/// Enforced: `type` (one or a list), `enum`, `const`, `properties` / `required` /
/// `additionalProperties`, `items` / `prefixItems` / `minItems` / `maxItems`, `minLength` /
/// `maxLength` / `pattern` / `format` (date-time, date, time, uuid, email, ipv4, ipv6, hostname,
/// uri), `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`, `anyOf`, `oneOf`
/// (generated as anyOf: a value that matches two branches is rare in practice and cannot be
/// excluded by a grammar), `allOf` (merged), `$ref` into the document (recursion allowed), and
/// OpenAPI's `nullable`. Objects are written with their declared properties in schema order,
/// required ones always, optional ones when the model chooses; no undeclared property is
/// written where properties are declared. Bounded numbers are written as integers. The other
/// keywords of JSON Schema's vocabularies are refused by name (`refused`); annotations and
/// keywords outside the vocabularies are ignored.
struct JSONSchemaCompiler {
    private var builder = GrammarBuilder()
    private let document: JSON
    private let style: JSONWhitespace
    private var references: [String: Int] = [:]
    /// Schemas entered and not yet left: a bound on self-merging references.
    private var depth = 0
    static let maxDepth = 256

    static let handled: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems",
        "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref", "nullable", "uniqueItems", "minProperties", "additionalItems",
    ]

    /// The keywords of JSON Schema's vocabularies (draft 4 to 2020-12) that constrain values in
    /// ways a grammar here does not enforce: refused by name, never ignored. Keywords outside the
    /// vocabularies (`markdownDescription`, `x-...`) are ignored, as JSON Schema says.
    static let refused: Set<String> = [
        "not", "if", "then", "else", "dependentSchemas", "dependentRequired", "dependencies", "patternProperties",
        "propertyNames", "unevaluatedProperties", "unevaluatedItems", "contains", "minContains", "maxContains",
        "multipleOf", "maxProperties", "$dynamicRef", "$recursiveRef", "contentSchema", "divisibleBy", "disallow",
        "extends",
    ]

    /// Whether `key` shapes values (as opposed to annotating them, or being unknown).
    static func constrains(_ key: String) -> Bool { handled.contains(key) || refused.contains(key) }

    private init(document: JSON, style: JSONWhitespace) {
        self.document = document
        self.style = style
    }

    static func compile(_ schema: JSON, whitespace: JSONWhitespace) throws -> Grammar {
        var compiler = JSONSchemaCompiler(document: schema, style: whitespace)
        let value = try compiler.value(schema, path: "#")
        let root = compiler.builder.rule("root", [[value]])
        do {
            return try compiler.builder.build(root: root)
        } catch let error as StructuredOutputError where error.message.contains("left-recursive") {
            throw StructuredOutputError("the schema refers to itself before any value is written (\(error.message))",
                                        keyword: "$ref")
        }
    }

    private var ws: [GrammarBuilder.Item] { mutating get { builder.whitespace(style) } }

    /// The rule for a value valid under `schema`.
    private mutating func value(_ schema: JSON, path: String) throws -> GrammarBuilder.Item {
        switch schema {
        case .bool(true): return builder.anyJSONValue(style)
        case .bool(false): return .rule(builder.rule("false", []))
        case .object(let object): return try value(object, path: path)
        default: throw StructuredOutputError("the schema at \(path) is a \(schema.typeName), not an object or a boolean")
        }
    }

    private mutating func value(_ schema: JSONObject, path: String) throws -> GrammarBuilder.Item {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw StructuredOutputError("the schema at \(path) nests or refers to itself more than \(Self.maxDepth) deep",
                                        keyword: "$ref")
        }
        for key in schema.keys where Self.refused.contains(key) {
            throw StructuredOutputError.unsupported(key, at: path)
        }
        if schema["nullable"]?.bool == true {
            var rest = schema
            rest["nullable"] = nil
            let inner = try value(rest, path: path)
            return .rule(builder.rule("nullable", [[inner], GrammarBuilder.literal("null")]))
        }
        if let reference = schema["$ref"] {
            guard let target = reference.string else { throw StructuredOutputError.invalid("$ref", at: path, "not a string") }
            let constraining = schema.keys.filter { Self.constrains($0) && $0 != "$ref" }
            if !constraining.isEmpty {
                return try value(.object(merged([.object(schema.removing("$ref")), resolve(target, at: path)], path: path)),
                                 path: path)
            }
            return try referenced(target, path: path)
        }
        if let all = schema["allOf"] {
            guard let parts = all.array, !parts.isEmpty else {
                throw StructuredOutputError.invalid("allOf", at: path, "not a non-empty list")
            }
            let resolved = try parts.map { try resolvingReference($0, path: path) }
            return try value(.object(merged(resolved + [.object(schema.removing("allOf"))], path: path)), path: path)
        }
        for keyword in ["anyOf", "oneOf"] {
            guard let branches = schema[keyword] else { continue }
            guard let list = branches.array, !list.isEmpty else {
                throw StructuredOutputError.invalid(keyword, at: path, "not a non-empty list")
            }
            let rest = schema.removing(keyword)
            let restConstrains = rest.keys.contains(where: Self.constrains)
            if keyword == "oneOf", !(try branchesAreDisjoint(list, path: path)) {
                throw StructuredOutputError(
                    "oneOf at \(path) has branches a value could match together, which a grammar cannot exclude",
                    keyword: "oneOf")
            }
            var alternatives: [[GrammarBuilder.Item]] = []
            for (index, branch) in list.enumerated() {
                let branchPath = "\(path)/\(keyword)/\(index)"
                if restConstrains {
                    let combined = try merged([.object(rest), resolvingReference(branch, path: branchPath)], path: branchPath)
                    alternatives.append([try value(.object(combined), path: branchPath)])
                } else {
                    alternatives.append([try value(branch, path: branchPath)])
                }
            }
            return .rule(builder.rule(keyword, alternatives))
        }
        if let constant = schema["const"] { return literal([constant], type: schema["type"], path: path) }
        if let values = schema["enum"] {
            guard let list = values.array, !list.isEmpty else {
                throw StructuredOutputError.invalid("enum", at: path, "not a non-empty list")
            }
            return literal(list, type: schema["type"], path: path)
        }
        let types = try self.types(schema, path: path)
        if types.isEmpty { return builder.anyJSONValue(style) }
        let alternatives = try types.map { [try typed($0, schema, path: path)] }
        return alternatives.count == 1 ? alternatives[0][0] : .rule(builder.rule("types", alternatives))
    }

    /// The literal alternatives of `enum`/`const` values (compact JSON), those of the wrong
    /// `type` left out.
    private mutating func literal(_ values: [JSON], type: JSON?, path: String) -> GrammarBuilder.Item {
        let allowed = type.flatMap { $0.string.map { [$0] } ?? $0.array?.compactMap(\.string) }
        let kept = values.filter { value in
            guard let allowed else { return true }
            return allowed.contains(value.typeName) || (value.typeName == "integer" && allowed.contains("number"))
        }
        return .rule(builder.rule("enum", kept.map { GrammarBuilder.literal($0.serialized()) }))
    }

    /// The JSON types a schema allows: its `type`, or those its keywords imply.
    private func types(_ schema: JSONObject, path: String) throws -> [String] {
        let known = ["string", "number", "integer", "boolean", "null", "object", "array"]
        if let type = schema["type"] {
            let names = type.string.map { [$0] } ?? type.array?.compactMap(\.string) ?? []
            guard !names.isEmpty, names.allSatisfy(known.contains) else {
                throw StructuredOutputError.invalid("type", at: path, "\(type.serialized()) is not a JSON Schema type")
            }
            return names
        }
        let keys = Set(schema.keys)
        if !keys.isDisjoint(with: ["properties", "required", "additionalProperties", "minProperties"]) { return ["object"] }
        if !keys.isDisjoint(with: ["items", "prefixItems", "minItems", "maxItems", "uniqueItems"]) { return ["array"] }
        if !keys.isDisjoint(with: ["minLength", "maxLength", "pattern", "format"]) { return ["string"] }
        if !keys.isDisjoint(with: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) { return ["number"] }
        return []
    }

    private mutating func typed(_ type: String, _ schema: JSONObject, path: String) throws -> GrammarBuilder.Item {
        switch type {
        case "string": return try string(schema, path: path)
        case "integer", "number": return try number(schema, integer: type == "integer", path: path)
        case "boolean": return .rule(builder.rule("boolean", [GrammarBuilder.literal("true"), GrammarBuilder.literal("false")]))
        case "null": return .rule(builder.rule("null", [GrammarBuilder.literal("null")]))
        case "object": return try object(schema, path: path)
        case "array": return try array(schema, path: path)
        default: return builder.anyJSONValue(style)
        }
    }

    // MARK: strings and numbers

    private mutating func string(_ schema: JSONObject, path: String) throws -> GrammarBuilder.Item {
        let minLength = try count(schema, "minLength", path: path) ?? 0
        let maxLength = try count(schema, "maxLength", path: path)
        if let maxLength, maxLength < minLength {
            throw StructuredOutputError.invalid("maxLength", at: path, "below minLength")
        }
        var pattern = schema["pattern"]?.string
        var anchored = false
        if let format = schema["format"] {
            guard let name = format.string, let regex = Self.formats[name] else {
                throw StructuredOutputError("the JSON Schema format \(format.serialized()) (at \(path)) is not supported",
                                            keyword: "format")
            }
            guard pattern == nil else { throw StructuredOutputError.unsupported("pattern together with format", at: path) }
            pattern = regex
            anchored = true
        }
        guard let pattern else { return builder.jsonString(minLength: minLength, maxLength: maxLength) }
        if schema["minLength"] != nil || schema["maxLength"] != nil {
            throw StructuredOutputError("minLength/maxLength together with pattern or format (at \(path)) are not supported",
                                        keyword: schema["minLength"] != nil ? "minLength" : "maxLength")
        }
        let node: RegexCompiler.Node
        do {
            node = try RegexCompiler.parse(pattern)
        } catch let error as StructuredOutputError {
            throw StructuredOutputError("\(error.message) (pattern at \(path))", keyword: "pattern")
        }
        // JSON Schema's pattern matches anywhere in the string unless anchored.
        var items = builder.items(for: node, spelling: .jsonString, name: "pattern")
        if !anchored {
            if case .sequence(let parts) = node, case .anchor? = parts.first {} else {
                items = builder.repeated(builder.jsonStringCharacter(), min: 0, max: nil, name: "any") + items
            }
            if case .sequence(let parts) = node, case .anchor? = parts.last {} else {
                items += builder.repeated(builder.jsonStringCharacter(), min: 0, max: nil, name: "any")
            }
        }
        let quote = GrammarBuilder.Item.bytes(.byte(0x22))
        return .rule(builder.rule("pattern string", [[quote] + items + [quote]]))
    }

    /// Patterns of the formats the engine writes, chosen so that every string they match is
    /// valid (days stop at 28, so no date is impossible; digits are ASCII, which `\\d` is not).
    static let formats: [String: String] = [
        "date": #"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"#,
        "time": #"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"#,
        "date-time": #"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"#,
        "uuid": #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#,
        "email": #"[A-Za-z0-9._%+-]{1,32}@[A-Za-z0-9-]{1,32}(\.[A-Za-z0-9-]{1,32}){0,3}\.[A-Za-z]{2,8}"#,
        "ipv4": #"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"#,
        "ipv6": #"([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"#,
        "hostname": #"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?){0,4}"#,
        "uri": #"https?://[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?){0,4}(/[A-Za-z0-9._~-]{1,32}){0,8}"#,
    ]

    private func count(_ schema: JSONObject, _ keyword: String, path: String) throws -> Int? {
        guard let value = schema[keyword] else { return nil }
        guard let number = value.number?.int64, number >= 0, number <= Int64(RegexCompiler.maxCount * 1000) else {
            throw StructuredOutputError.invalid(keyword, at: path, "\(value.serialized()) is not a non-negative integer")
        }
        return Int(number)
    }

    private mutating func number(_ schema: JSONObject, integer: Bool, path: String) throws -> GrammarBuilder.Item {
        func bound(_ keyword: String) throws -> Double? {
            guard let value = schema[keyword] else { return nil }
            guard let number = value.number?.double else {
                // Draft 4's boolean exclusive bounds.
                if value.bool != nil, keyword.hasPrefix("exclusive") { return nil }
                throw StructuredOutputError.invalid(keyword, at: path, "not a number")
            }
            return number
        }
        var low = try bound("minimum")
        var high = try bound("maximum")
        if let exclusive = try bound("exclusiveMinimum") { low = max(low ?? -.infinity, exclusive.nextUp) }
        if let exclusive = try bound("exclusiveMaximum") { high = min(high ?? .infinity, exclusive.nextDown) }
        if schema["exclusiveMinimum"]?.bool == true, let value = low { low = value.nextUp }
        if schema["exclusiveMaximum"]?.bool == true, let value = high { high = value.nextDown }
        guard low != nil || high != nil else { return builder.jsonNumber(integer: integer) }
        let limit = 999_999_999_999_999.0
        let lowInteger = (low ?? -limit).rounded(.up)
        let highInteger = (high ?? limit).rounded(.down)
        guard lowInteger <= highInteger, abs(lowInteger) <= limit, abs(highInteger) <= limit else {
            let keyword = ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"].first { schema[$0] != nil } ?? "minimum"
            throw StructuredOutputError("the bounds at \(path) (\"\(keyword)\") hold no integer Tern can write "
                                            + "(bounded numbers are written as integers of at most 15 digits)",
                                        keyword: keyword)
        }
        return .rule(builder.integerRange(Int64(lowInteger), Int64(highInteger)))
    }

    // MARK: objects and arrays

    private mutating func object(_ schema: JSONObject, path: String) throws -> GrammarBuilder.Item {
        if let minimum = schema["minProperties"], minimum.number?.int64 ?? 1 > 0 {
            throw StructuredOutputError.unsupported("minProperties", at: path)
        }
        var properties: [(String, JSON)] = []
        if let declared = schema["properties"] {
            guard let members = declared.object else {
                throw StructuredOutputError.invalid("properties", at: path, "not an object")
            }
            properties = members.map { ($0.key, $0.value) }
        }
        var required: Set<String> = []
        if let list = schema["required"] {
            guard let names = list.array?.compactMap(\.string), names.count == list.array?.count else {
                throw StructuredOutputError.invalid("required", at: path, "not a list of strings")
            }
            required = Set(names)
            for name in names where !properties.contains(where: { $0.0 == name }) {
                properties.append((name, schema["additionalProperties"].flatMap { $0.object != nil ? $0 : nil } ?? .bool(true)))
            }
        }
        let open = "{", close = "}"
        if properties.isEmpty {
            // No declared property: any members, of the additionalProperties schema.
            let additional = schema["additionalProperties"] ?? .bool(true)
            if additional == .bool(false) {
                return .rule(builder.rule("empty object", [GrammarBuilder.literal(open) + ws + GrammarBuilder.literal(close)]))
            }
            let valueItem = try value(additional, path: "\(path)/additionalProperties")
            let member = [builder.jsonString()] + ws + GrammarBuilder.literal(":") + ws + [valueItem]
            let separated = builder.rule("member,", [ws + GrammarBuilder.literal(",") + ws + member])
            let more = builder.repeated(.rule(separated), min: 0, max: nil, name: "members")
            return .rule(builder.rule("object", [
                GrammarBuilder.literal(open) + ws + GrammarBuilder.literal(close),
                GrammarBuilder.literal(open) + ws + member + more + ws + GrammarBuilder.literal(close),
            ]))
        }
        if let additional = schema["additionalProperties"], additional.bool == nil, additional.object == nil {
            throw StructuredOutputError.invalid("additionalProperties", at: path, "not a schema")
        }
        // rest(i, first): the members from property i on; `first` when none was written yet.
        var members: [[GrammarBuilder.Item]] = []
        for (name, propertySchema) in properties {
            let item = try value(propertySchema, path: "\(path)/properties/\(name)")
            members.append(GrammarBuilder.literal(JSON.quoted(name)) + ws + GrammarBuilder.literal(":") + ws + [item])
        }
        var restFirst = builder.rule("end", [[]])
        var restLater = restFirst
        for index in properties.indices.reversed() {
            let isRequired = required.contains(properties[index].0)
            let later = builder.rule("members", [ws + GrammarBuilder.literal(",") + ws + members[index] + [.rule(restLater)]]
                                         + (isRequired ? [] : [[.rule(restLater)]]))
            let first = builder.rule("members", [members[index] + [.rule(restLater)]] + (isRequired ? [] : [[.rule(restFirst)]]))
            restFirst = first
            restLater = later
        }
        return .rule(builder.rule("object", [GrammarBuilder.literal(open) + ws + [.rule(restFirst)] + ws
                                                 + GrammarBuilder.literal(close)]))
    }

    private mutating func array(_ schema: JSONObject, path: String) throws -> GrammarBuilder.Item {
        if schema["uniqueItems"]?.bool == true { throw StructuredOutputError.unsupported("uniqueItems", at: path) }
        var prefix: [JSON] = schema["prefixItems"]?.array ?? []
        var items = schema["items"]
        if let positional = items?.array {  // draft 7's tuple form
            prefix = positional
            items = schema["additionalItems"]
        }
        let minItems = try count(schema, "minItems", path: path) ?? 0
        let maxItems = try count(schema, "maxItems", path: path)
        if let maxItems, maxItems < minItems { throw StructuredOutputError.invalid("maxItems", at: path, "below minItems") }
        let written = min(prefix.count, maxItems ?? prefix.count)
        var elements: [GrammarBuilder.Item] = []
        for index in 0..<written { elements.append(try value(prefix[index], path: "\(path)/prefixItems/\(index)")) }
        let restSchema: JSON? = (items == .bool(false) || (items == nil && !prefix.isEmpty)) ? nil : (items ?? .bool(true))
        let restMin = max(minItems - written, 0)
        let restMax = maxItems.map { max($0 - written, 0) }
        if restSchema == nil, restMin > 0 {
            throw StructuredOutputError.invalid("minItems", at: path, "needs more items than the array may hold")
        }
        let separator = ws + GrammarBuilder.literal(",") + ws
        var body: [GrammarBuilder.Item] = []
        for (index, element) in elements.enumerated() { body += (index == 0 ? [] : separator) + [element] }
        var alternatives: [[GrammarBuilder.Item]]
        if let restSchema, restMax != 0 {
            let element = try value(restSchema, path: "\(path)/items")
            let separated = GrammarBuilder.Item.rule(builder.rule("element,", [separator + [element]]))
            if body.isEmpty {
                let tail = builder.repeated(separated, min: max(restMin - 1, 0), max: restMax.map { $0 - 1 }, name: "elements")
                alternatives = [[element] + tail]
                if restMin == 0 { alternatives.append([]) }
            } else {
                alternatives = [body + builder.repeated(separated, min: restMin, max: restMax, name: "elements")]
            }
        } else {
            alternatives = [body]
        }
        let open = GrammarBuilder.literal("[") + ws, close = ws + GrammarBuilder.literal("]")
        return .rule(builder.rule("array", alternatives.map { open + $0 + close }))
    }

    // MARK: references and merging

    private mutating func referenced(_ target: String, path: String) throws -> GrammarBuilder.Item {
        if let id = references[target] { return .rule(id) }
        let id = builder.declare("ref \(target)")
        references[target] = id
        let schema = try resolve(target, at: path)
        let item = try value(schema, path: target)
        builder.define(id, [[item]])
        return .rule(id)
    }

    /// The schema a `$ref` points at: `#`, or a JSON pointer into this document.
    private func resolve(_ target: String, at path: String) throws -> JSON {
        guard target.hasPrefix("#") else {
            throw StructuredOutputError("the $ref \(target) (at \(path)) points outside the schema", keyword: "$ref")
        }
        var node = document
        for raw in target.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let token = String(raw).removingPercentEncoding()
                .replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let next = node[token] {
                node = next
            } else if let index = Int(token), let next = node[index] {
                node = next
            } else {
                throw StructuredOutputError("the $ref \(target) (at \(path)) does not resolve", keyword: "$ref")
            }
        }
        return node
    }

    private func resolvingReference(_ schema: JSON, path: String) throws -> JSON {
        guard let target = schema["$ref"]?.string, schema.object?.keys.count == 1 else { return schema }
        return try resolve(target, at: path)
    }

    /// Whether no value can match two of `branches` (so oneOf is anyOf): their JSON types are
    /// disjoint, or they are objects told apart by a required property's distinct constants.
    private func branchesAreDisjoint(_ branches: [JSON], path: String) throws -> Bool {
        let resolved = try branches.map { try resolvingReference($0, path: path) }
        let typeSets: [Set<String>?] = resolved.map { branch in
            guard let object = branch.object else { return branch == .bool(false) ? [] : nil }
            if let values = object["enum"]?.array ?? object["const"].map({ [$0] }) {
                return Set(values.map { $0.typeName == "integer" ? "number" : $0.typeName })
            }
            guard let type = object["type"] else { return nil }
            let names = type.string.map { [$0] } ?? type.array?.compactMap(\.string) ?? []
            return Set(names.map { $0 == "integer" ? "number" : $0 })
        }
        if typeSets.allSatisfy({ $0 != nil }) {
            var seen = Set<String>()
            var disjoint = true
            for set in typeSets.compactMap({ $0 }) {
                if !seen.isDisjoint(with: set) { disjoint = false }
                seen.formUnion(set)
            }
            if disjoint { return true }
        }
        // Objects with a discriminator: a property required everywhere, with distinct constants.
        let objects = resolved.compactMap(\.object)
        guard objects.count == resolved.count, let first = objects.first,
              let candidates = first["required"]?.array?.compactMap(\.string) else { return false }
        for name in candidates {
            var values: [JSON] = []
            var ok = true
            for object in objects {
                guard object["required"]?.array?.contains(.string(name)) == true,
                      let property = object["properties"]?[name], let constants = property["enum"]?.array ?? property["const"].map({ [$0] })
                else { ok = false; break }
                if constants.contains(where: values.contains) { ok = false; break }
                values += constants
            }
            if ok { return true }
        }
        return false
    }

    /// One schema that means what all of `schemas` mean together, where they combine simply:
    /// properties and required lists unite, the same keyword twice must agree.
    private func merged(_ schemas: [JSON], path: String) throws -> JSONObject {
        var result = JSONObject()
        // An array's items keyword applies after its own prefixItems: taken from different
        // schemas, the two would mean something else together.
        let objects = schemas.compactMap(\.object)
        let withItems = objects.indices.filter { objects[$0]["items"] != nil }
        let withPrefix = objects.indices.filter { objects[$0]["prefixItems"] != nil }
        if !withItems.isEmpty, !withPrefix.isEmpty, Set(withItems) != Set(withPrefix) || withItems.count > 1 {
            throw StructuredOutputError("allOf at \(path) combines items and prefixItems from different schemas", keyword: "allOf")
        }
        for schema in schemas {
            guard let object = schema.object else {
                if schema == .bool(true) { continue }
                throw StructuredOutputError.unsupported("allOf", at: path)
            }
            for (key, value) in object where Self.constrains(key) || key == "$defs" || key == "definitions" {
                switch (key, result[key]) {
                case (_, nil):
                    result[key] = value
                case ("properties", .object(let existing)?):
                    var combined = existing
                    for (name, schema) in value.object ?? JSONObject() {
                        if let earlier = combined[name] {
                            combined[name] = .object(try merged([earlier, schema], path: "\(path)/properties/\(name)"))
                        } else {
                            combined[name] = schema
                        }
                    }
                    result[key] = .object(combined)
                case ("required", .array(let existing)?):
                    let names = existing + (value.array ?? []).filter { !existing.contains($0) }
                    result[key] = .array(names)
                case ("additionalProperties", _):
                    if value == .bool(false) { result[key] = value }
                case (_, let existing?) where existing == value:
                    break
                default:
                    throw StructuredOutputError("allOf at \(path) combines two different \"\(key)\" keywords, which Tern does not merge",
                                                keyword: "allOf")
                }
            }
        }
        return result
    }
}

extension JSONObject {
    func removing(_ key: String) -> JSONObject {
        var copy = self
        copy[key] = nil
        return copy
    }
}

extension String {
    /// `%XX` escapes decoded (JSON pointers in URI fragments).
    func removingPercentEncoding() -> String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = Array(utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
