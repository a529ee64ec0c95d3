/// Python's `str` operations on Unicode scalars (code points), which is how Python indexes,
/// measures and compares strings. Swift's `Character`-based operations group scalars into
/// graphemes and would give different lengths, slices and splits.
enum PythonText {
    static func scalars(_ text: String) -> [Unicode.Scalar] {
        Array(text.unicodeScalars)
    }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    static func length(_ text: String) -> Int {
        text.unicodeScalars.count
    }

    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8)
    }

    /// Code-point order, as Python's `<` on strings.
    static func less(_ lhs: String, _ rhs: String) -> Bool {
        lhs.unicodeScalars.lexicographicallyPrecedes(rhs.unicodeScalars)
    }

    static func contains(_ text: String, _ part: String) -> Bool {
        find(Array(text.utf8), Array(part.utf8), from: 0) != nil
    }

    /// Byte offset of `needle` in `haystack` at or after `start` (UTF-8 search equals code-point search).
    static func find(_ haystack: [UInt8], _ needle: [UInt8], from start: Int) -> Int? {
        if needle.isEmpty { return start <= haystack.count ? start : nil }
        guard haystack.count >= needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0], haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// Python's `str.find`: the code-point index of `part`, or -1.
    static func index(of part: String, in text: String, reverse: Bool = false) -> Int {
        let haystack = Array(text.utf8)
        let needle = Array(part.utf8)
        var found: Int?
        if reverse {
            var start = 0
            while let position = find(haystack, needle, from: start) {
                found = position
                start = position + 1
                if needle.isEmpty && position == haystack.count { break }
            }
        } else {
            found = find(haystack, needle, from: 0)
        }
        guard let found else { return -1 }
        return haystack[..<found].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    static func count(of part: String, in text: String) -> Int {
        if part.isEmpty { return length(text) + 1 }
        let haystack = Array(text.utf8)
        let needle = Array(part.utf8)
        var count = 0
        var start = 0
        while let position = find(haystack, needle, from: start) {
            count += 1
            start = position + needle.count
        }
        return count
    }

    /// Python's `str.replace(old, new, count)`; a negative count replaces all.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int = -1) -> String {
        if old.isEmpty {
            var result = ""
            var inserted = 0
            for scalar in text.unicodeScalars {
                if count < 0 || inserted < count {
                    result += new
                    inserted += 1
                }
                result.unicodeScalars.append(scalar)
            }
            if count < 0 || inserted < count { result += new }
            return result
        }
        let haystack = Array(text.utf8)
        let needle = Array(old.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(haystack.count)
        var start = 0
        var replaced = 0
        while count < 0 || replaced < count, let position = find(haystack, needle, from: start) {
            output += haystack[start..<position]
            output += new.utf8
            start = position + needle.count
            replaced += 1
        }
        output += haystack[start...]
        return String(decoding: output, as: UTF8.self)
    }

    static func strip(_ text: String, _ characters: String?, leading: Bool = true, trailing: Bool = true) -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func strippable(_ scalar: Unicode.Scalar) -> Bool {
            set.map { $0.contains(scalar) } ?? isPythonWhitespace(scalar)
        }
        let items = scalars(text)
        var start = 0
        var end = items.count
        if leading { while start < end, strippable(items[start]) { start += 1 } }
        if trailing { while end > start, strippable(items[end - 1]) { end -= 1 } }
        return string(items[start..<end])
    }

    /// Python's `str.split(sep, maxsplit)`; a negative maxsplit splits everywhere.
    static func split(_ text: String, separator: String?, maxSplit: Int) throws -> [String] {
        let maxSplit = maxSplit < 0 ? Int.max : maxSplit
        guard let separator else {
            let items = scalars(text)
            var parts: [String] = []
            var i = 0
            var splits = 0
            while splits < maxSplit {
                while i < items.count, isPythonWhitespace(items[i]) { i += 1 }
                if i == items.count { break }
                let start = i
                while i < items.count, !isPythonWhitespace(items[i]) { i += 1 }
                parts.append(string(items[start..<i]))
                splits += 1
            }
            while i < items.count, isPythonWhitespace(items[i]) { i += 1 }
            if i < items.count { parts.append(string(items[i...])) }
            return parts
        }
        guard !separator.isEmpty else { throw ChatTemplateError(.value, "empty separator") }
        let haystack = Array(text.utf8)
        let needle = Array(separator.utf8)
        var parts: [String] = []
        var start = 0
        while parts.count < maxSplit, let position = find(haystack, needle, from: start) {
            parts.append(String(decoding: haystack[start..<position], as: UTF8.self))
            start = position + needle.count
        }
        parts.append(String(decoding: haystack[start...], as: UTF8.self))
        return parts
    }

    /// Python's `str.rsplit(sep, maxsplit)`.
    static func rsplit(_ text: String, separator: String?, maxSplit: Int) throws -> [String] {
        if maxSplit < 0 { return try split(text, separator: separator, maxSplit: -1) }
        let reversedText = string(text.unicodeScalars.reversed())
        let reversedSeparator = separator.map { string($0.unicodeScalars.reversed()) }
        let parts = try split(reversedText, separator: reversedSeparator, maxSplit: maxSplit)
        return parts.reversed().map { string($0.unicodeScalars.reversed()) }
    }

    /// Python's `str.splitlines(keepends)`.
    static func splitLines(_ text: String, keepEnds: Bool = false) -> [String] {
        let items = scalars(text)
        var lines: [String] = []
        var start = 0
        var i = 0
        while i < items.count {
            let scalar = items[i]
            guard isLineBoundary(scalar) else {
                i += 1
                continue
            }
            var end = i + 1
            if scalar == "\r", end < items.count, items[end] == "\n" { end += 1 }
            lines.append(string(items[start..<(keepEnds ? end : i)]))
            start = end
            i = end
        }
        if start < items.count { lines.append(string(items[start...])) }
        return lines
    }

    static func isLineBoundary(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    static func upper(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars { result += scalar.properties.uppercaseMapping }
        return result
    }

    /// Python's `str.lower()`, with its final-sigma rule.
    static func lower(_ text: String) -> String {
        let items = scalars(text)
        var result = ""
        for index in items.indices {
            result += lowered(items, at: index)
        }
        return result
    }

    /// The lower case of `items[index]`; a capital sigma becomes final `ς` at the end of a word.
    private static func lowered(_ items: [Unicode.Scalar], at index: Int) -> String {
        if items[index] == "\u{03A3}" {
            return isFinalSigma(items, at: index) ? "\u{03C2}" : "\u{03C3}"
        }
        return items[index].properties.lowercaseMapping
    }

    private static func isFinalSigma(_ items: [Unicode.Scalar], at index: Int) -> Bool {
        var j = index - 1
        while j >= 0, items[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, items[j].properties.isCased else { return false }
        j = index + 1
        while j < items.count, items[j].properties.isCaseIgnorable { j += 1 }
        return j == items.count || !items[j].properties.isCased
    }

    /// Python's `str.title()`: a cased character after a cased one is lowered, others title-cased.
    static func title(_ text: String) -> String {
        let items = scalars(text)
        var result = ""
        var previousIsCased = false
        for (index, scalar) in items.enumerated() {
            result += previousIsCased ? lowered(items, at: index) : scalar.properties.titlecaseMapping
            previousIsCased = scalar.properties.isCased
        }
        return result
    }

    /// Python's `str.capitalize()`: the first character title-cased, the rest lowered.
    static func capitalize(_ text: String) -> String {
        let items = scalars(text)
        guard let first = items.first else { return "" }
        return first.properties.titlecaseMapping + lower(string(items.dropFirst()))
    }

    static func swapCase(_ text: String) -> String {
        let items = scalars(text)
        var result = ""
        for (index, scalar) in items.enumerated() {
            if scalar.properties.isUppercase {
                result += lowered(items, at: index)
            } else if scalar.properties.isLowercase {
                result += scalar.properties.uppercaseMapping
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func isLower(_ text: String) -> Bool {
        var sawCased = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isUppercase || scalar.properties.generalCategory == .titlecaseLetter { return false }
            if scalar.properties.isLowercase { sawCased = true }
        }
        return sawCased
    }

    static func isUpper(_ text: String) -> Bool {
        var sawCased = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isLowercase || scalar.properties.generalCategory == .titlecaseLetter { return false }
            if scalar.properties.isUppercase { sawCased = true }
        }
        return sawCased
    }

    static func isAlpha(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// Python's `\w` in a `str` pattern: letters, numbers and `_`.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || isAlpha(scalar) || scalar.properties.numericType != nil
    }
}

/// Python's `str.isspace()` for one code point (also what `\s` matches in a `str` regex).
func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

/// Python's `repr()` of a string: single quotes unless the text has one and no double quote,
/// with backslash escapes for quotes, backslashes and non-printable code points.
func pythonRepr(_ text: String) -> String {
    let hasSingle = text.unicodeScalars.contains("'")
    let hasDouble = text.unicodeScalars.contains("\"")
    let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
    var result = String.UnicodeScalarView()
    result.append(quote)
    func appendHex(_ prefix: String, _ value: UInt32, width: Int) {
        let hex = String(value, radix: 16)
        result.append(contentsOf: (prefix + String(repeating: "0", count: max(0, width - hex.count)) + hex).unicodeScalars)
    }
    for scalar in text.unicodeScalars {
        switch scalar {
        case quote, "\\":
            result.append("\\")
            result.append(scalar)
        case "\t": result.append(contentsOf: "\\t".unicodeScalars)
        case "\n": result.append(contentsOf: "\\n".unicodeScalars)
        case "\r": result.append(contentsOf: "\\r".unicodeScalars)
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                appendHex("\\x", scalar.value, width: 2)
            } else if scalar.value < 0x7F || isPythonPrintable(scalar) {
                result.append(scalar)
            } else if scalar.value <= 0xFF {
                appendHex("\\x", scalar.value, width: 2)
            } else if scalar.value <= 0xFFFF {
                appendHex("\\u", scalar.value, width: 4)
            } else {
                appendHex("\\U", scalar.value, width: 8)
            }
        }
    }
    result.append(quote)
    return String(result)
}

/// Python's `ascii()` applied to a `repr()`: non-ASCII code points as `\x`, `\u` or `\U` escapes.
func pythonASCII(_ repr: String) -> String {
    var result = ""
    for scalar in repr.unicodeScalars {
        if scalar.isASCII {
            result.unicodeScalars.append(scalar)
            continue
        }
        let hex = String(scalar.value, radix: 16)
        let (prefix, width) = scalar.value <= 0xFF ? ("\\x", 2) : scalar.value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
        result += prefix + String(repeating: "0", count: width - hex.count) + hex
    }
    return result
}

/// Python's `str.isprintable()` for one code point.
func isPythonPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}
