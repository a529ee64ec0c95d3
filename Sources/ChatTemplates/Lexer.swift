/// Splits template text into tokens exactly as jinja2's lexer does with the environment
/// transformers uses: `{{ }}`, `{% %}`, `{# #}` and `{% raw %}`, whitespace control with `-` and
/// `+`, `trim_blocks` (the first newline after a block or comment tag is dropped) and
/// `lstrip_blocks` (spaces and tabs before a block or comment tag on its own line are dropped).
/// Like jinja2, it first turns `\r\n` and `\r` into `\n` and drops one trailing newline.
struct Lexer {
    let source: [Unicode.Scalar]
    private var position = 0
    var line = 1
    private var lineStarting = true
    private var tokens: [Token] = []
    private var balance: [Unicode.Scalar] = []

    private enum TagKind {
        case variable, block, comment, raw

        var isVariable: Bool {
            if case .variable = self { return true }
            return false
        }
    }

    /// The tokens, ending with `.endOfTemplate`, or with `.lexError` where the text stops making sense.
    static func tokenize(_ text: String) -> [Token] {
        var lexer = Lexer(source: normalizedScalars(text))
        do {
            try lexer.run()
        } catch {
            lexer.tokens.append(Token(kind: .lexError(error), line: error.line ?? lexer.line))
        }
        return lexer.tokens
    }

    private init(source: [Unicode.Scalar]) {
        self.source = source
    }

    private static func normalizedScalars(_ text: String) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            scalars.append(scalar == "\r" ? "\n" : scalar)
        }
        if scalars.last == "\n" {
            scalars.removeLast()
        }
        return scalars
    }

    func fail(_ message: String) -> ChatTemplateError {
        ChatTemplateError(.syntax, message, line: line)
    }

    private func matches(_ text: String, at index: Int) -> Bool {
        var i = index
        for scalar in text.unicodeScalars {
            guard i < source.count, source[i] == scalar else { return false }
            i += 1
        }
        return true
    }

    private func skipWhitespace(from index: Int) -> Int {
        var i = index
        while i < source.count, isPythonWhitespace(source[i]) { i += 1 }
        return i
    }

    private func newlineCount(_ range: Range<Int>) -> Int {
        var count = 0
        for i in range where source[i] == "\n" { count += 1 }
        return count
    }

    private mutating func emit(_ kind: Token.Kind, newlines: Int = 0) {
        tokens.append(Token(kind: kind, line: line))
        line += newlines
    }

    private mutating func run() throws(ChatTemplateError) {
        while position < source.count {
            guard let (start, kind, sign, beginEnd) = findTag(from: position) else {
                emit(.data(String(String.UnicodeScalarView(source[position...]))), newlines: newlineCount(position..<source.count))
                position = source.count
                break
            }
            emitText(position..<start, sign: sign, isVariable: kind.isVariable)
            position = beginEnd
            lineStarting = source[beginEnd - 1] == "\n"
            switch kind {
            case .variable:
                emit(.variableBegin)
                try lexTag(isBlock: false)
            case .block:
                emit(.blockBegin)
                try lexTag(isBlock: true)
            case .comment:
                try lexComment()
            case .raw:
                line += newlineCount(start..<beginEnd)
                try lexRaw()
            }
        }
        // jinja2 dates the end of the template to the last token's line.
        tokens.append(Token(kind: .endOfTemplate, line: tokens.last?.line ?? 1))
    }

    /// The next tag start at or after `index`: where it starts, its kind, its `-`/`+` sign and
    /// where the opening (for raw: the whole `{% raw %}`) ends.
    private func findTag(from index: Int) -> (Int, TagKind, Unicode.Scalar?, Int)? {
        var i = index
        while i + 1 < source.count {
            if source[i] == "{" {
                let next = source[i + 1]
                let sign: Unicode.Scalar? = i + 2 < source.count && (source[i + 2] == "-" || source[i + 2] == "+") ? source[i + 2] : nil
                let openEnd = i + 2 + (sign == nil ? 0 : 1)
                if next == "%" {
                    if let rawEnd = matchRawBegin(afterSign: openEnd) {
                        return (i, .raw, sign, rawEnd)
                    }
                    return (i, .block, sign, openEnd)
                }
                if next == "{" { return (i, .variable, sign, openEnd) }
                if next == "#" { return (i, .comment, sign, openEnd) }
            }
            i += 1
        }
        return nil
    }

    private func matchRawBegin(afterSign index: Int) -> Int? {
        var i = skipWhitespace(from: index)
        guard matches("raw", at: i) else { return nil }
        i = skipWhitespace(from: i + 3)
        if matches("-%}", at: i) { return skipWhitespace(from: i + 3) }
        if matches("%}", at: i) { return i + 2 }
        return nil
    }

    /// Emits the text before a tag after applying the tag's whitespace control.
    private mutating func emitText(_ range: Range<Int>, sign: Unicode.Scalar?, isVariable: Bool) {
        var end = range.upperBound
        var strippedNewlines = 0
        if sign == "-" {
            while end > range.lowerBound, isPythonWhitespace(source[end - 1]) { end -= 1 }
            strippedNewlines = newlineCount(end..<range.upperBound)
        } else if sign != "+", !isVariable {
            var lineStart = range.upperBound
            while lineStart > range.lowerBound, source[lineStart - 1] != "\n" { lineStart -= 1 }
            let atLineStart = lineStart > range.lowerBound || lineStarting
            if atLineStart, lineStart < range.upperBound,
               source[lineStart..<range.upperBound].allSatisfy(isPythonWhitespace) {
                end = lineStart
            }
        }
        if end > range.lowerBound {
            emit(.data(String(String.UnicodeScalarView(source[range.lowerBound..<end]))))
        }
        line += newlineCount(range.lowerBound..<end) + strippedNewlines
    }

    private mutating func lexComment() throws(ChatTemplateError) {
        // jinja2 reports a missing end only when some text follows the opening.
        guard position < source.count else { return }
        var i = position
        while i < source.count {
            var end: Int?
            if matches("+#}", at: i) {
                end = i + 3
            } else if matches("-#}", at: i) {
                end = skipWhitespace(from: i + 3)
            } else if matches("#}", at: i) {
                end = i + 2 < source.count && source[i + 2] == "\n" ? i + 3 : i + 2
            }
            if let end {
                line += newlineCount(position..<end)
                lineStarting = source[end - 1] == "\n"
                position = end
                return
            }
            i += 1
        }
        throw fail("Missing end of comment tag")
    }

    private mutating func lexRaw() throws(ChatTemplateError) {
        guard position < source.count else { return }
        var i = position
        while i + 1 < source.count {
            if source[i] == "{", source[i + 1] == "%" {
                var j = i + 2
                let sign: Unicode.Scalar? = j < source.count && (source[j] == "-" || source[j] == "+") ? source[j] : nil
                if sign != nil { j += 1 }
                j = skipWhitespace(from: j)
                if matches("endraw", at: j) {
                    j = skipWhitespace(from: j + 6)
                    var end: Int?
                    if matches("+%}", at: j) {
                        end = j + 3
                    } else if matches("-%}", at: j) {
                        end = skipWhitespace(from: j + 3)
                    } else if matches("%}", at: j) {
                        end = j + 2 < source.count && source[j + 2] == "\n" ? j + 3 : j + 2
                    }
                    if let end {
                        emitText(position..<i, sign: sign, isVariable: false)
                        line += newlineCount(i..<end)
                        lineStarting = source[end - 1] == "\n"
                        position = end
                        return
                    }
                }
            }
            i += 1
        }
        throw fail("Missing end of raw directive")
    }

    /// Tokens inside `{{ }}` or `{% %}` up to and including the closing tag.
    private mutating func lexTag(isBlock: Bool) throws(ChatTemplateError) {
        while position < source.count {
            if balance.isEmpty, let end = matchTagEnd(isBlock: isBlock) {
                emit(isBlock ? .blockEnd : .variableEnd, newlines: newlineCount(position..<end))
                lineStarting = source[end - 1] == "\n"
                position = end
                return
            }
            let scalar = source[position]
            if isPythonWhitespace(scalar) {
                let end = skipWhitespace(from: position)
                line += newlineCount(position..<end)
                position = end
            } else if let end = matchFloat(at: position) {
                let text = String(String.UnicodeScalarView(source[position..<end].filter { $0 != "_" }))
                emit(.float(Double(text) ?? .infinity))
                position = end
            } else if let (end, value) = try matchInteger(at: position) {
                emit(.integer(value))
                position = end
            } else if scalar == "_" || scalar.properties.isXIDStart {
                var end = position + 1
                while end < source.count, source[end].properties.isXIDContinue { end += 1 }
                emit(.name(String(String.UnicodeScalarView(source[position..<end]))))
                position = end
            } else if scalar == "'" || scalar == "\"", let end = matchString(at: position) {
                let value = try unescape(source[(position + 1)..<(end - 1)])
                emit(.string(value), newlines: newlineCount(position..<end))
                position = end
            } else if let text = matchOperator(at: position) {
                try track(text)
                emit(.op(text))
                position += text.unicodeScalars.count
            } else {
                throw fail("unexpected char \(pythonRepr(String(scalar))) at \(position)")
            }
        }
    }

    private func matchTagEnd(isBlock: Bool) -> Int? {
        if isBlock {
            if matches("+%}", at: position) { return position + 3 }
            if matches("-%}", at: position) { return skipWhitespace(from: position + 3) }
            if matches("%}", at: position) {
                return position + 2 < source.count && source[position + 2] == "\n" ? position + 3 : position + 2
            }
        } else {
            if matches("-}}", at: position) { return skipWhitespace(from: position + 3) }
            if matches("}}", at: position) { return position + 2 }
        }
        return nil
    }

    private mutating func track(_ text: String) throws(ChatTemplateError) {
        switch text {
        case "(": balance.append(")")
        case "[": balance.append("]")
        case "{": balance.append("}")
        case ")", "]", "}":
            guard let expected = balance.popLast() else { throw fail("unexpected '\(text)'") }
            if String(expected) != text {
                throw fail("unexpected '\(text)', expected '\(expected)'")
            }
        default: break
        }
    }

    private static let operators = [
        "**", "//", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ]

    private func matchOperator(at index: Int) -> String? {
        Self.operators.first { matches($0, at: index) }
    }
}
