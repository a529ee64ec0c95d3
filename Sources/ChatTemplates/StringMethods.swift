/// Python's `str` methods, called on a template string: `content.strip()`,
/// `content.split('</think>')[-1]`, `name.startswith(('a', 'b'))`...
enum StringMethods {
    static func call(_ name: String, on text: String, _ arguments: Arguments, renderer: Renderer) throws -> Value {
        let qualified = "str.\(name)"
        func bind(_ names: [String]) throws -> [Value?] {
            try arguments.bind(names, function: qualified)
        }
        func requireString(_ value: Value?, _ parameter: String) throws -> String {
            guard let value else { throw Methods.missingArgument(qualified, parameter) }
            guard let string = value.stringPayload else {
                throw ChatTemplateError(.type, "must be str, not \(pythonTypeName(value))")
            }
            return string
        }
        func optionalString(_ value: Value?) throws -> String? {
            guard let value else { return nil }
            if case .none = value { return nil }
            guard let string = value.stringPayload else {
                let message = name.hasSuffix("strip") ? "\(name) arg must be None or str" : "must be str or None, not \(pythonTypeName(value))"
                throw ChatTemplateError(.type, message)
            }
            return string
        }
        func requireInt(_ value: Value?, _ parameter: String) throws -> Int {
            guard let value else { throw Methods.missingArgument(qualified, parameter) }
            guard let number = value.integerPayload else {
                throw ChatTemplateError(.type, "\(pythonRepr(pythonTypeName(value))) object cannot be interpreted as an integer")
            }
            return number
        }
        /// The text between optional `start`/`end` positions, and the offset of its first character.
        func window(_ start: Value?, _ end: Value?) throws -> (String, Int) {
            let scalars = PythonText.scalars(text)
            let bounds = Renderer.sliceIndices(
                count: scalars.count, start: start.flatMap { $0.integerPayload }, stop: end.flatMap { $0.integerPayload }, step: 1)
            guard let first = bounds.first else {
                let offset = start?.integerPayload.map { $0 < 0 ? max(0, $0 + scalars.count) : $0 } ?? 0
                return ("", offset)
            }
            return (PythonText.string(scalars[first...bounds.last!]), first)
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            let characters = try optionalString(try bind(["chars"])[0])
            return .string(PythonText.strip(text, characters, leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let bound = try bind(["sep", "maxsplit"])
            let separator = try optionalString(bound[0])
            let maxSplit = try bound[1].map { try requireInt($0, "maxsplit") } ?? -1
            let parts = name == "split"
                ? try PythonText.split(text, separator: separator, maxSplit: maxSplit)
                : try PythonText.rsplit(text, separator: separator, maxSplit: maxSplit)
            return .list(parts.map { .string($0) })
        case "splitlines":
            let keepEnds = try bind(["keepends"])[0]?.isTruthy ?? false
            return .list(PythonText.splitLines(text, keepEnds: keepEnds).map { .string($0) })
        case "startswith", "endswith":
            let bound = try bind(["prefix", "start", "end"])
            guard let affix = bound[0] else { throw Methods.missingArgument(qualified, "prefix") }
            let candidates: [Value]
            if case .tuple(let items) = affix { candidates = items } else { candidates = [affix] }
            let (part, _) = try window(bound[1], bound[2])
            for candidate in candidates {
                guard let string = candidate.stringPayload else {
                    throw ChatTemplateError(.type, "\(name) first arg must be str or a tuple of str, not \(pythonTypeName(candidate))")
                }
                if name == "startswith" ? part.utf8.starts(with: string.utf8) : part.utf8.reversed().starts(with: string.utf8.reversed()) {
                    return .bool(true)
                }
            }
            return .bool(false)
        case "upper": _ = try bind([]); return .string(PythonText.upper(text))
        case "lower", "casefold": _ = try bind([]); return .string(PythonText.lower(text))
        case "title": _ = try bind([]); return .string(PythonText.title(text))
        case "capitalize": _ = try bind([]); return .string(PythonText.capitalize(text))
        case "swapcase": _ = try bind([]); return .string(PythonText.swapCase(text))
        case "replace":
            let bound = try bind(["old", "new", "count"])
            let count = try bound[2].map { try requireInt($0, "count") } ?? -1
            return .string(PythonText.replace(text, try requireString(bound[0], "old"), try requireString(bound[1], "new"), count: count))
        case "find", "rfind", "index", "rindex", "count":
            let bound = try bind(["sub", "start", "end"])
            let part = try requireString(bound[0], "sub")
            let (haystack, offset) = try window(bound[1], bound[2])
            if name == "count" { return .int(PythonText.count(of: part, in: haystack)) }
            let position = PythonText.index(of: part, in: haystack, reverse: name.hasPrefix("r"))
            if position < 0 {
                if name.hasSuffix("index") { throw ChatTemplateError(.value, "substring not found") }
                return .int(-1)
            }
            return .int(position + offset)
        case "join":
            guard let iterable = try bind(["iterable"])[0] else { throw Methods.missingArgument(qualified, "iterable") }
            let items = try renderer.iterate(iterable)
            var parts: [String] = []
            for (position, item) in items.enumerated() {
                guard let string = item.stringPayload else {
                    throw ChatTemplateError(.type, "sequence item \(position): expected str instance, \(pythonTypeName(item)) found")
                }
                parts.append(string)
            }
            return .string(parts.joined(separator: text))
        case "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "isascii",
             "isprintable", "istitle", "isidentifier":
            _ = try bind([])
            return .bool(predicate(name, text))
        case "zfill":
            let width = try requireInt(try bind(["width"])[0], "width")
            let scalars = PythonText.scalars(text)
            guard width > scalars.count else { return .string(text) }
            let fill = String(repeating: "0", count: width - scalars.count)
            if let first = scalars.first, first == "+" || first == "-" {
                return .string(String(first) + fill + PythonText.string(scalars.dropFirst()))
            }
            return .string(fill + text)
        case "center", "ljust", "rjust":
            let bound = try bind(["width", "fillchar"])
            let width = try requireInt(bound[0], "width")
            let fill = try bound[1].map { try requireString($0, "fillchar") } ?? " "
            guard fill.unicodeScalars.count == 1 else {
                throw ChatTemplateError(.type, "The fill character must be exactly one character long")
            }
            return .string(justify(text, name, width: width, fill: fill))
        case "partition", "rpartition":
            let separator = try requireString(try bind(["sep"])[0], "sep")
            guard !separator.isEmpty else { throw ChatTemplateError(.value, "empty separator") }
            let parts = name == "partition"
                ? try PythonText.split(text, separator: separator, maxSplit: 1)
                : try PythonText.rsplit(text, separator: separator, maxSplit: 1)
            if parts.count == 1 {
                return name == "partition"
                    ? .tuple([.string(text), .string(""), .string("")]) : .tuple([.string(""), .string(""), .string(text)])
            }
            return .tuple([.string(parts[0]), .string(separator), .string(parts[1])])
        case "removeprefix", "removesuffix":
            let affix = try requireString(try bind([name == "removeprefix" ? "prefix" : "suffix"])[0], "affix")
            let scalars = PythonText.scalars(text)
            let affixScalars = PythonText.scalars(affix)
            if name == "removeprefix", scalars.starts(with: affixScalars) {
                return .string(PythonText.string(scalars.dropFirst(affixScalars.count)))
            }
            if name == "removesuffix", !affixScalars.isEmpty, scalars.reversed().starts(with: affixScalars.reversed()) {
                return .string(PythonText.string(scalars.dropLast(affixScalars.count)))
            }
            return .string(text)
        case "format", "format_map":
            var keywords = ValueDictionary()
            var positional = arguments.positional
            if name == "format_map" {
                guard let mapping = try bind(["mapping"])[0] else { throw Methods.missingArgument(qualified, "mapping") }
                guard case .dict(let dictionary) = mapping else {
                    throw ChatTemplateError(.type, "format_map() argument must be a mapping, not \(pythonTypeName(mapping))")
                }
                keywords = dictionary
                positional = []
            } else {
                for (key, value) in arguments.keywords { keywords.set(key, value) }
            }
            var formatter = StringFormat(renderer: renderer, positional: positional, keywords: keywords)
            return .string(try formatter.format(text))
        default:
            throw ChatTemplateError(.unsupported, "the str method \(pythonRepr(name))")
        }
    }

    private static func predicate(_ name: String, _ text: String) -> Bool {
        let scalars = PythonText.scalars(text)
        switch name {
        case "isupper": return PythonText.isUpper(text)
        case "islower": return PythonText.isLower(text)
        case "isascii": return scalars.allSatisfy(\.isASCII)
        case "isprintable": return scalars.allSatisfy(isPythonPrintable)
        case "istitle":
            var sawCased = false
            var previousCased = false
            for scalar in scalars {
                let properties = scalar.properties
                if properties.isUppercase || properties.generalCategory == .titlecaseLetter {
                    if previousCased { return false }
                    previousCased = true
                    sawCased = true
                } else if properties.isLowercase {
                    if !previousCased { return false }
                    previousCased = true
                    sawCased = true
                } else {
                    previousCased = false
                }
            }
            return sawCased
        case "isidentifier":
            guard let first = scalars.first, first == "_" || first.properties.isXIDStart else { return false }
            return scalars.dropFirst().allSatisfy { $0.properties.isXIDContinue }
        default:
            guard !scalars.isEmpty else { return false }
            return scalars.allSatisfy { scalar in
                switch name {
                case "isdigit": return scalar.properties.numericType == .digit || scalar.properties.numericType == .decimal
                case "isdecimal": return scalar.properties.numericType == .decimal
                case "isnumeric": return scalar.properties.numericType != nil
                case "isalpha": return PythonText.isAlpha(scalar)
                case "isalnum": return PythonText.isAlpha(scalar) || scalar.properties.numericType != nil
                default: return isPythonWhitespace(scalar)
                }
            }
        }
    }

    /// `str.center`, `ljust`, `rjust` (CPython puts the odd extra fill on the right of centred text,
    /// except when both the margin and the width are odd).
    private static func justify(_ text: String, _ name: String, width: Int, fill: String) -> String {
        let length = PythonText.length(text)
        guard width > length else { return text }
        let margin = width - length
        let left: Int
        switch name {
        case "ljust": left = 0
        case "rjust": left = margin
        default: left = margin / 2 + (margin & width & 1)
        }
        return String(repeating: fill, count: left) + text + String(repeating: fill, count: margin - left)
    }
}
