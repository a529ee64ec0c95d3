/// One lexical token of a template, with the line it starts on (1-based).
struct Token: Equatable {
    enum Kind: Equatable {
        /// Literal text between tags, already trimmed by the whitespace-control rules.
        case data(String)
        case variableBegin
        case variableEnd
        case blockBegin
        case blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+ - * / // % ** ~ [ ] ( ) { } == != > >= < <= = . : | , ;`.
        case op(String)
        case endOfTemplate
        /// Where lexing failed. jinja2 lexes lazily, so the parser raises this only when it gets
        /// here: an earlier parse error wins, as in jinja2.
        case lexError(ChatTemplateError)
    }

    let kind: Kind
    let line: Int

    /// How jinja2 names the token in its error messages ("end of statement block", "'x'"...).
    var description: String {
        switch kind {
        case .data: return "template data / text"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let name): return name
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let text): return text
        case .endOfTemplate, .lexError: return "end of template"
        }
    }

    func isName(_ name: String) -> Bool {
        if case .name(let value) = kind { return value == name }
        return false
    }

    func isOperator(_ text: String) -> Bool {
        if case .op(let value) = kind { return value == text }
        return false
    }
}
