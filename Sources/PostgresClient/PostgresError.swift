/// An error reported by libpq or by the server, with what PostgreSQL said.
///
/// `kind` lets callers tell a broken connection (reconnect next time) from a
/// failed statement (the connection is still usable, possibly inside an
/// aborted transaction).
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection could not be established.
        case connectionFailed
        /// The connection broke (server gone, network, terminated backend).
        case connectionLost
        /// The server rejected a statement; the connection is still usable.
        case statementFailed
        /// The statement returned something other than what the caller expected
        /// (for instance rows where a COPY was expected).
        case unexpectedResult
        /// libpq refused the call itself (out of memory, bad argument).
        case clientError
    }

    public var kind: Kind
    /// Five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// The primary message, without the `ERROR:` prefix.
    public var message: String
    public var detail: String?
    public var hint: String?

    public init(
        kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// True when the connection must be dropped and opened again.
    public var isConnectionBroken: Bool {
        kind == .connectionFailed || kind == .connectionLost
    }

    /// SQLSTATE 57014: the statement was cancelled (PQcancel or statement_timeout).
    public var isQueryCanceled: Bool { sqlState == "57014" }

    public var description: String {
        var text = message
        if let sqlState { text = "\(text) (SQLSTATE \(sqlState))" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }
}
