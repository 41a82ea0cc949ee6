/// Reading and writing one-dimensional array literals in PostgreSQL's text
/// format (`{a,"b c",NULL}`), for `text[]`/`name[]` values passed as
/// parameters or read back.
public enum PostgresArrayLiteral {
    public static func parse(_ text: String) throws(PostgresError) -> [String?] {
        var characters = Substring(text)
        // Skip an optional dimension decoration such as `[0:1]=`.
        if characters.first == "[", let equals = characters.firstIndex(of: "=") {
            characters = characters[characters.index(after: equals)...]
        }
        guard characters.first == "{", characters.last == "}" else {
            throw .notDecodable(text, as: "an array")
        }
        let body = characters.dropFirst().dropLast()
        if body.isEmpty { return [] }
        var elements: [String?] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var escaping = false
        for character in body {
            if escaping {
                current.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if character == ",", !quoted {
                elements.append(element(current, wasQuoted: wasQuoted))
                current = ""
                wasQuoted = false
            } else if character == "{", !quoted {
                throw .notDecodable(text, as: "a one-dimensional array")
            } else {
                current.append(character)
            }
        }
        guard !quoted, !escaping else { throw .notDecodable(text, as: "an array") }
        elements.append(element(current, wasQuoted: wasQuoted))
        return elements
    }

    /// A literal that `parse` reads back to the same elements.
    public static func format(_ elements: [String?]) -> String {
        let parts = elements.map { element -> String in
            guard let element else { return "NULL" }
            let escaped = element.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            return "\"\(escaped)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private static func element(_ text: String, wasQuoted: Bool) -> String? {
        if !wasQuoted, text.uppercased() == "NULL" { return nil }
        return wasQuoted ? text : text.trimmingTrailingWhitespace()
    }
}
