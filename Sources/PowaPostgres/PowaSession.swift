import Logging
import PostgresClient
import PowaCore

/// An open connection to a PoWA database (repository or remote), with what
/// the collector learns per connection: installed extensions (and so the
/// powa version and every extension's schema).
final class PowaSession {
    let connection: PostgresConnection
    private(set) var extensions: InstalledExtensions

    private init(connection: PostgresConnection, extensions: InstalledExtensions) {
        self.connection = connection
        self.extensions = extensions
    }

    /// Connects and prepares the session as the reference collector does:
    /// `application_name`, a 2 s `lock_timeout` when the server has none,
    /// `search_path = pg_catalog` on PoWA 5 or when asked (per-database
    /// connections), `LOAD 'powa'` on PoWA 4.0, and optionally a
    /// `statement_timeout` so that a hung remote costs one snapshot.
    static func open(
        _ parameters: ConnectionParameters, applicationName: String, statementTimeout: Double? = nil,
        secureSearchPath: Bool = false
    ) throws(PostgresError) -> PowaSession {
        let connection = try PostgresConnection.connect(
            parameters.defaulting("keepalives_idle", "30").defaulting("keepalives_interval", "10")
                .setting("client_encoding", "UTF8"),
            applicationName: applicationName, connectTimeout: 10)
        do {
            let extensions = try readExtensions(connection)
            let version = extensions.powaVersionText.flatMap(PowaVersion.init(extversion:))
            // Every setting in one round trip: the repository connection is
            // opened for each snapshot.
            var setup: [String] = []
            if version?.needsLoad == true { setup.append(SessionSQL.loadPowa) }
            if secureSearchPath || version?.usesSecureSearchPath ?? true { setup.append(SessionSQL.secureSearchPath) }
            setup.append(SessionSQL.defaultLockTimeout)
            setup.append(SessionSQL.copyTextSettings)
            if let statementTimeout {
                // An integer of our own making, not a value from outside.
                setup.append("SET statement_timeout = \(Int(statementTimeout * 1000))")
            }
            try connection.executeSimple(setup.joined(separator: "; "))
            return PowaSession(connection: connection, extensions: extensions)
        } catch {
            connection.close()
            throw error
        }
    }

    /// Reads the installed extensions again (the remote connection lives
    /// long; extensions may be added or dropped meanwhile).
    func refreshExtensions() throws(PostgresError) {
        extensions = try Self.readExtensions(connection)
    }

    private static func readExtensions(_ connection: PostgresConnection) throws(PostgresError) -> InstalledExtensions {
        let rows = try connection.execute(SessionSQL.installedExtensions).rows.map(\.values)
        do {
            return try InstalledExtensions(rows: rows)
        } catch {
            throw PostgresError(kind: .unexpectedResult, message: "reading installed extensions: \(error)")
        }
    }

    func close() {
        connection.close()
    }

    /// The repository statements for this session's powa version. Falls
    /// back to PoWA 4.1's when the version cannot be read, which is enough
    /// for the statements that record errors (the same on every version).
    func repositoryStatements(version: PowaVersion? = nil) -> RepositorySQL {
        RepositorySQL(
            version: version ?? extensions.powaVersionText.flatMap(PowaVersion.init(extversion:))
                ?? PowaVersion(major: 4, minor: 1),
            powaSchema: extensions.schemas["powa"] ?? "public",
            quoteIdentifier: quoteIdentifier)
    }

    /// Quotes an identifier through libpq; falls back to doubling quotes,
    /// which is what libpq does for any valid UTF-8 name.
    func quoteIdentifier(_ identifier: String) -> String {
        (try? connection.escapeIdentifier(identifier))
            ?? "\"" + identifier.replacing("\"", with: "\"\"") + "\""
    }

    func quoteLiteral(_ literal: String) -> String {
        (try? connection.escapeLiteral(literal))
            ?? "'" + literal.replacing("'", with: "''") + "'"
    }

    /// Runs one prepared statement.
    @discardableResult
    func run(_ statement: SQLStatement) throws(PostgresError) -> QueryResult {
        try connection.execute(statement.text, statement.parameters)
    }

    @discardableResult
    func run(_ sql: String) throws(PostgresError) -> QueryResult {
        try connection.executeSimple(sql)
    }
}
