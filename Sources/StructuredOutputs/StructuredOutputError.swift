/// Why a constraint cannot be compiled: a malformed regex, grammar or schema, or a schema
/// keyword Tern does not enforce (never silently ignored).
public struct StructuredOutputError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// The JSON Schema keyword at fault, when one is.
    public let keyword: String?

    public init(_ message: String, keyword: String? = nil) {
        self.message = message
        self.keyword = keyword
    }

    /// A schema keyword that constrains values in a way this engine does not enforce.
    static func unsupported(_ keyword: String, at path: String) -> StructuredOutputError {
        StructuredOutputError("the JSON Schema keyword \"\(keyword)\" (at \(path)) is not supported", keyword: keyword)
    }

    /// A keyword whose value is not what JSON Schema allows.
    static func invalid(_ keyword: String, at path: String, _ problem: String) -> StructuredOutputError {
        StructuredOutputError("invalid \"\(keyword)\" at \(path): \(problem)", keyword: keyword)
    }

    public var description: String { message }
}
