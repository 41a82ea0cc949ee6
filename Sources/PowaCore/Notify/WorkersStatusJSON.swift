/// The data of a `WORKERS_STATUS` answer: a JSON object whose keys are
/// server ids as strings and whose values are status strings, like
/// `{"1": "running", "12": "no connection to remote server"}`.
///
/// Built by hand so that servers come in numeric order (which a key-sorting
/// `JSONEncoder` would not give: "12" < "2") and with the reference's
/// `", "` / `": "` separators.
public enum WorkersStatusJSON {
    public static func encode(_ statuses: [Int: String]) -> String {
        let members = statuses.keys.sorted().map { srvid in
            "\(quoted(String(srvid))): \(quoted(statuses[srvid]!))"
        }
        return "{" + members.joined(separator: ", ") + "}"
    }

    /// A JSON string literal: quotes, backslashes and control characters
    /// escaped; everything else, non-ASCII included, kept as is.
    static func quoted(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{0}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
