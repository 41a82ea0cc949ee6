/// A statement (or connection) of a snapshot that failed, as the snapshot
/// plan needs to know it: what PostgreSQL said, and whether the connection
/// survived. The worker builds it from libpq's error.
public struct StatementFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// Five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// PostgreSQL's message with its SQLSTATE, detail and hint, as logged
    /// and recorded in `powa_snapshot_metas.errors`.
    public var message: String
    /// The connection is gone: nothing more can run on it.
    public var connectionBroken: Bool

    public init(sqlState: String?, message: String, connectionBroken: Bool) {
        self.sqlState = sqlState
        self.message = message
        self.connectionBroken = connectionBroken
    }

    /// SQLSTATE 57014: cancelled by a cancel request or `statement_timeout`.
    public var isQueryCanceled: Bool { sqlState == "57014" }

    public var description: String { message }
}

/// How one streamed copy failed (`CopyStep`), from the side that failed.
public enum CopyFailure: Error, Equatable, Sendable {
    /// The source failed, before or during the COPY.
    case source(StatementFailure)
    /// The repository refused its COPY statement; the source statement
    /// (and so its savepoint) was never sent.
    case targetRefused(StatementFailure)
    /// The repository failed during or at the end of the COPY.
    case target(StatementFailure)

    public var underlying: StatementFailure {
        switch self {
        case .source(let failure), .targetRefused(let failure), .target(let failure): failure
        }
    }
}
