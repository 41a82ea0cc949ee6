/// A JSON string literal written by hand, for the few JSON texts built
/// without `JSONEncoder` (the `WORKERS_STATUS` answer, a worker's status
/// line): quotes, backslashes and control characters escaped; everything
/// else, non-ASCII included, kept as is.
public enum JSONStringLiteral {
    public static func quoted(_ string: String) -> String {
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
