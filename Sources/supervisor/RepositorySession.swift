import PostgresClient
import PowaCore
import PowaPostgres

/// The supervisor's own connection to the repository: it LISTENs on
/// `powa_collector`, reads `powa_servers`, checks who sends requests and
/// answers them. Workers have connections of their own, so they keep
/// collecting while this one is down.
///
/// The statements here are the supervisor's alone (its `check` and
/// `status` subcommands included), so they live in the supervisor; the
/// session under them is opened as the workers' are.
final class RepositorySession {
    static let channel = "powa_collector"
    /// A statement of the supervisor that runs longer than this means the
    /// repository is stuck; better to give up (and reconnect) than to stop
    /// answering and supervising. Its statements take milliseconds.
    static let statementTimeoutSeconds = 10.0

    let session: PowaSession
    /// `CoordinationSQL.createSchema` ran on this session.
    var coordinationSchemaReady = false
    let powaVersion: PowaVersion
    /// The powa extension's schema, quoted.
    let powaSchema: String

    private init(session: PowaSession, powaVersion: PowaVersion, powaSchema: String) {
        self.session = session
        self.powaVersion = powaVersion
        self.powaSchema = powaSchema
    }

    deinit { session.close() }

    var connection: PostgresConnection { session.connection }

    /// The powa extension's schema, raw, for use as a value.
    var powaSchemaName: String { session.powaSchemaName }

    /// The socket to poll for notifications.
    var socket: Int32 { connection.socket }

    /// Whether a statement on this connection may have left notifications
    /// in libpq's buffer (see `PostgresConnection.mayHoldBufferedNotifications`).
    var mayHoldBufferedNotifications: Bool { connection.mayHoldBufferedNotifications }

    /// Opens a PoWA session as every collector connection is (`PowaSession`),
    /// requires powa 4 or later on the repository, and listens on
    /// `powa_collector`.
    static func open(dsn: String) throws(RepositorySessionError) -> RepositorySession {
        let session: PowaSession
        do {
            session = try PowaSession.open(
                .conninfo(dsn), applicationName: ApplicationName.main(version: CollectorVersion.current),
                statementTimeout: statementTimeoutSeconds)
        } catch {
            throw .postgres(error)
        }
        do throws(RepositorySessionError) {
            let version: PowaVersion
            do {
                version = try session.validatedPowaVersion(on: .repository)
            } catch {
                throw .version(error)
            }
            return try postgres { () throws(PostgresError) in
                let schema = try session.connection.escapeIdentifier(session.powaSchemaName)
                try session.connection.listen(channel)
                return RepositorySession(session: session, powaVersion: version, powaSchema: schema)
            }
        } catch {
            session.close()
            throw error
        }
    }

    /// Reads what arrived without blocking; throws when the connection broke.
    func drainNotifications() throws(PostgresError) -> [PostgresNotification] {
        try connection.drainNotifications()
    }

    /// The servers to collect, as `powa_servers` lists them.
    func readServerList() throws(RepositorySessionError) -> [ServerRow] {
        let statement = ServerListQuery.statement(powaSchema: powaSchema)
        let rows = try Self.postgres { () throws(PostgresError) in
            try connection.execute(statement.text, statement.parameters).rows.map(\.values)
        }
        do {
            return try ServerListQuery.serverRows(rows)
        } catch {
            throw .unexpectedRows(error)
        }
    }

    /// Whether the role of backend `senderPID` may ask the collector
    /// anything. A failing check answers "no"; the error is returned too so
    /// that a broken connection is noticed.
    func isPermitted(senderPID: Int32) -> (permitted: Bool, error: PostgresError?) {
        let statement = SenderPermissionQuery.statement(
            senderPID: senderPID, serverVersionNum: connection.serverVersion,
            powaVersion: powaVersion, powaSchema: powaSchema)
        do {
            let rows = try connection.execute(statement.text, statement.parameters).rows.map(\.values)
            return (SenderPermissionQuery.isPermitted(rows), nil)
        } catch {
            return (false, error)
        }
    }

    /// Checks backend `senderPID` and sends it `answer` if it is permitted,
    /// `denied` otherwise, in one statement; returns whether it was. The
    /// statement is prepared on first use: planned once, it costs the
    /// repository a third of an unprepared one, which is most of an answer.
    func answerIfPermitted(senderPID: Int32, channel: String, answer: String, denied: String) throws(PostgresError)
        -> Bool
    {
        let statement = SenderPermissionQuery.answerIfPermitted(
            senderPID: senderPID, serverVersionNum: connection.serverVersion, powaVersion: powaVersion,
            powaSchema: powaSchema, channel: channel, answer: answer, denied: denied)
        if !answerPrepared {
            try connection.prepare(Self.answerStatementName, statement.text)
            answerPrepared = true
        }
        let rows = try connection.executePrepared(Self.answerStatementName, statement.parameters).rows.map(\.values)
        return SenderPermissionQuery.isPermitted(rows)
    }

    static let answerStatementName = "powa_collector_answer_if_permitted"
    /// Its text depends only on the session's server and powa versions.
    private var answerPrepared = false

    /// Sends one answer. The channel travels as a `pg_notify` parameter:
    /// whatever a hostile request named it, it cannot change the statement.
    func answer(channel: String, payload: String) throws(PostgresError) {
        try connection.notify(channel, payload: payload)
    }

    func close() { session.close() }

    /// Runs `body`, wrapping its error for the typed-throws signature.
    static func postgres<T>(_ body: () throws(PostgresError) -> T) throws(RepositorySessionError) -> T {
        do {
            return try body()
        } catch {
            throw .postgres(error)
        }
    }
}

/// Why the repository connection could not be opened or used.
enum RepositorySessionError: Error, CustomStringConvertible {
    case postgres(PostgresError)
    /// powa missing or too old on the repository.
    case version(PowaVersionError)
    /// `powa_servers` or `pg_extension` rows do not have the expected shape.
    case unexpectedRows(RowDecodingError)
    /// The role may not create or use the coordination schema.
    case coordinationNotPermitted(CoordinationPermissionError)

    /// Whether the connection is unusable (rather than one statement failing).
    var isConnectionBroken: Bool {
        if case .postgres(let error) = self { error.isConnectionBroken } else { false }
    }

    var description: String {
        switch self {
        case .postgres(let error): error.description
        case .version(let error): error.description
        case .unexpectedRows(let error): "unexpected rows from the repository: \(error)"
        case .coordinationNotPermitted(let error): error.description
        }
    }
}
