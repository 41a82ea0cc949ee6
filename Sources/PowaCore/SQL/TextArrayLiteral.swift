/// PostgreSQL's text form of one-dimensional arrays (`{a,"b c",NULL}`), the
/// form in which `text[]` columns and parameters travel in text mode.
public enum TextArrayLiteral {
    public enum DecodeError: Error, Equatable, Sendable {
        case malformed(String)
    }

    /// The array literal of `elements`: every element double-quoted, with
    /// `"` and `\` backslash-escaped, which PostgreSQL reads back verbatim
    /// whatever the element holds (commas, braces, spaces, `NULL`, empty).
    public static func encode(_ elements: [String]) -> String {
        let quoted = elements.map { element -> String in
            var out = "\""
            for character in element {
                if character == "\"" || character == "\\" { out.append("\\") }
                out.append(character)
            }
            out.append("\"")
            return out
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }

    /// The elements of a one-dimensional array in PostgreSQL's output
    /// format; an unquoted `NULL` is nil. A leading dimension decoration
    /// (`[0:1]=`) is accepted and ignored.
    public static func decode(_ literal: String) throws(DecodeError) -> [String?] {
        var chars = Substring(literal)
        if chars.first == "[" {
            guard let equal = chars.firstIndex(of: "=") else { throw .malformed(literal) }
            chars = chars[chars.index(after: equal)...]
        }
        chars = chars.drop { $0 == " " }
        guard chars.first == "{", chars.last == "}" else { throw .malformed(literal) }
        let body = chars.dropFirst().dropLast()
        if body.allSatisfy({ $0 == " " }) { return [] }

        var elements: [String?] = []
        var index = body.startIndex
        while true {
            // One element, quoted or not.
            while index < body.endIndex, body[index] == " " { index = body.index(after: index) }
            guard index < body.endIndex else { throw .malformed(literal) }
            if body[index] == "\"" {
                var value = ""
                index = body.index(after: index)
                var closed = false
                while index < body.endIndex {
                    let character = body[index]
                    index = body.index(after: index)
                    if character == "\\" {
                        guard index < body.endIndex else { throw .malformed(literal) }
                        value.append(body[index])
                        index = body.index(after: index)
                    } else if character == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw .malformed(literal) }
                elements.append(value)
                while index < body.endIndex, body[index] == " " { index = body.index(after: index) }
            } else {
                var value = ""
                while index < body.endIndex, body[index] != "," {
                    let character = body[index]
                    if character == "{" || character == "}" || character == "\"" { throw .malformed(literal) }
                    if character == "\\" {
                        index = body.index(after: index)
                        guard index < body.endIndex else { throw .malformed(literal) }
                    }
                    value.append(body[index])
                    index = body.index(after: index)
                }
                let trimmed = String(value.reversed().drop { $0 == " " }.reversed())
                guard !trimmed.isEmpty else { throw .malformed(literal) }
                elements.append(trimmed.uppercased() == "NULL" ? nil : trimmed)
            }
            guard index < body.endIndex else { break }
            guard body[index] == "," else { throw .malformed(literal) }
            index = body.index(after: index)
        }
        return elements
    }
}
