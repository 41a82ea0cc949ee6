import CLibPQ

/// How to open a connection.
///
/// Values are handed to `PQconnectdbParams` as separate keyword/value pairs,
/// so no value is ever spliced into a conninfo string: quotes, spaces,
/// backslashes and empty values need no escaping. Everything libpq does by
/// itself keeps working (PG* environment variables, `.pgpass`, service files,
/// `sslmode`), since unset keywords fall back to libpq's defaults.
public struct ConnectionParameters: Sendable, Equatable {
    /// Keyword/value pairs in order. A later keyword overrides an earlier one,
    /// as libpq does.
    public var keywords: [(String, String)]
    /// When true, a `dbname` value that is a URI or a `key=value` string is
    /// expanded by libpq (used for the repository DSN from the config file).
    public var expandDatabaseName: Bool

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.expandDatabaseName == rhs.expandDatabaseName
            && lhs.keywords.map { [$0.0, $0.1] } == rhs.keywords.map { [$0.0, $0.1] }
    }

    public init(keywords: [(String, String)], expandDatabaseName: Bool = false) {
        self.keywords = keywords
        self.expandDatabaseName = expandDatabaseName
    }

    /// A libpq URI (`postgresql://…`) or key/value string (`host=… dbname=…`).
    public static func conninfo(_ dsn: String) -> ConnectionParameters {
        ConnectionParameters(keywords: [("dbname", dsn)], expandDatabaseName: true)
    }

    /// Separate values; nil or empty values are left to libpq's defaults.
    public static func fields(
        host: String?, port: Int?, user: String?, password: String?, dbname: String?
    ) -> ConnectionParameters {
        var pairs: [(String, String)] = []
        if let host { pairs.append(("host", host)) }
        if let port { pairs.append(("port", String(port))) }
        if let user { pairs.append(("user", user)) }
        if let password { pairs.append(("password", password)) }
        if let dbname { pairs.append(("dbname", dbname)) }
        return ConnectionParameters(keywords: pairs)
    }

    /// A copy with one keyword set (replacing an earlier value).
    public func setting(_ keyword: String, _ value: String) -> ConnectionParameters {
        var copy = self
        copy.keywords.removeAll { $0.0 == keyword }
        copy.keywords.append((keyword, value))
        return copy
    }

    /// A copy with `keyword` set only when the parameters (a conninfo
    /// string included) do not already choose a value: the user's
    /// settings win over the collector's defaults.
    public func defaulting(_ keyword: String, _ value: String) -> ConnectionParameters {
        let chosen = ((try? expandedKeywords()) ?? keywords).contains { $0.0 == keyword }
        return chosen ? self : setting(keyword, value)
    }

    /// A copy connecting to another database of the same server. A conninfo
    /// `dbname` is expanded first so that the override wins over it.
    public func overridingDatabase(_ dbname: String) throws(PostgresError) -> ConnectionParameters {
        var pairs = try expandedKeywords()
        pairs.removeAll { $0.0 == "dbname" }
        pairs.append(("dbname", dbname))
        return ConnectionParameters(keywords: pairs)
    }

    /// A description for logs: every keyword given, with the password
    /// replaced by a placeholder. A conninfo string is parsed by libpq so that
    /// a password inside a URI or key/value string is caught too.
    public var redactedDescription: String {
        let pairs = (try? expandedKeywords()) ?? keywords.filter { $0.0 != "dbname" || !expandDatabaseName }
        return pairs.map { key, value in
            let shown = key == "password" ? "<REDACTED>" : value
            return "\(key)=\(Self.quoteForDescription(shown))"
        }.joined(separator: " ")
    }

    /// The pairs with a conninfo `dbname` expanded by `PQconninfoParse`.
    func expandedKeywords() throws(PostgresError) -> [(String, String)] {
        guard expandDatabaseName else { return keywords }
        var result: [(String, String)] = []
        for (key, value) in keywords {
            guard key == "dbname", value.contains("=") || value.hasPrefix("postgres") else {
                result.append((key, value))
                continue
            }
            var errmsg: UnsafeMutablePointer<CChar>?
            guard let options = PQconninfoParse(value, &errmsg) else {
                let message = errmsg.map { String(cString: $0) } ?? "invalid connection string"
                if let errmsg { PQfreemem(errmsg) }
                throw PostgresError(
                    kind: .connectionFailed, message: message.trimmingTrailingWhitespace())
            }
            defer { PQconninfoFree(options) }
            var option = options
            while let keyword = option.pointee.keyword {
                if let val = option.pointee.val {
                    let name = String(cString: keyword)
                    result.removeAll { $0.0 == name }
                    result.append((name, String(cString: val)))
                }
                option += 1
            }
        }
        return result
    }

    static func quoteForDescription(_ value: String) -> String {
        if !value.isEmpty, !value.contains(where: { $0 == " " || $0 == "'" || $0 == "\\" }) {
            return value
        }
        let escaped = value.replacing("\\", with: "\\\\").replacing("'", with: "\\'")
        return "'\(escaped)'"
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var copy = self
        while let last = copy.last, last.isWhitespace { copy.removeLast() }
        return copy
    }

}
