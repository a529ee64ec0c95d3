/// Why a chat template could not be compiled or rendered. `message` is jinja2's own wording
/// where jinja2 has one (a `raise_exception` message is kept verbatim), so callers can show
/// the same text transformers would; `line` is the template line when known.
public struct ChatTemplateError: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The template text is malformed (jinja2's `TemplateSyntaxError`/`TemplateAssertionError`).
        case syntax
        /// The template called `raise_exception(message)`.
        case raised
        /// An undefined value was used in a way that needs a value (jinja2's `UndefinedError`).
        case undefined
        /// An operation got a value of the wrong type (Python's `TypeError`).
        case type
        /// An operation got a value it cannot handle (Python's `ValueError`, `ZeroDivisionError`...).
        case value
        /// The sandbox refused the operation (jinja2's `SecurityError`).
        case security
        /// A bound on recursion, iterations or output size was hit.
        case limit
        /// A jinja2 feature this interpreter does not implement.
        case unsupported
    }

    public let kind: Kind
    public let message: String
    public let line: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String {
        let flat = message.replacingNewlines()
        let location = line.map { " at line \($0)" } ?? ""
        switch kind {
        case .syntax: return "chat template syntax error\(location): \(flat)"
        case .raised: return "chat template raised an exception\(location): \(flat)"
        case .undefined: return "chat template undefined value\(location): \(flat)"
        case .type: return "chat template type error\(location): \(flat)"
        case .value: return "chat template value error\(location): \(flat)"
        case .security: return "chat template security error\(location): \(flat)"
        case .limit: return "chat template limit exceeded\(location): \(flat)"
        case .unsupported: return "chat template feature not supported\(location): \(flat)"
        }
    }

    /// The same error, placed at `line` unless it already knows where it happened.
    func located(at line: Int) -> ChatTemplateError {
        self.line == nil ? ChatTemplateError(kind, message, line: line) : self
    }
}

extension String {
    /// The text on one line: newlines shown as `\n`, so an error description stays one line.
    fileprivate func replacingNewlines() -> String {
        var result = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
