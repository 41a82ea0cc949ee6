/// One SQL statement with its positional parameters (`$1`, `$2`, …) in text
/// format, ready for `PQexecParams`.
///
/// Values that vary (server ids, versions, error texts) always travel as
/// parameters so that no value is ever spliced into SQL text; only
/// identifiers quoted by the caller's quoting function and the repository's
/// own trusted SQL (`query_source`, `query_cleanup`, `tmp_table`) are.
public struct SQLStatement: Equatable, Sendable, CustomStringConvertible {
    public var text: String
    /// Text values of `$1`, `$2`, …; nil is SQL NULL.
    public var parameters: [String?]

    public init(_ text: String, parameters: [String?] = []) {
        self.text = text
        self.parameters = parameters
    }

    /// The statement and its parameters, for debug logs. These statements
    /// never carry passwords.
    public var description: String {
        guard !parameters.isEmpty else { return text }
        let values = parameters.enumerated().map { index, value in
            "$\(index + 1)=" + (value.map { "'\($0)'" } ?? "NULL")
        }
        return text + " [" + values.joined(separator: ", ") + "]"
    }
}
