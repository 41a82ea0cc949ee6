import PostgresClient
import PowaCore

/// An open connection to a PoWA database (repository or remote), set up
/// the one way every connection of the collector is, in either executable,
/// with what the collector learns per connection: the installed extensions
/// (and so the powa version and every extension's schema).
///
/// The powa version is read once, when the session opens, and decides the
/// session's setup (`LOAD 'powa'`, the search_path). Whether that version is
/// acceptable is the caller's question, asked through `validatedPowaVersion`
/// at the moment it can act on the answer: the supervisor right after
/// opening, a worker at each snapshot, where it records the refusal in the
/// repository.
public final class PowaSession {
    /// How long connecting may take before it is given up, in seconds.
    public static let connectTimeoutSeconds = 10

    /// TCP keepalives, so that a silently dead link (a server powered off,
    /// a dropped route) is noticed within about a minute instead of the
    /// kernel's two hours: 30 s idle, then three probes 10 s apart. The
    /// user's own settings in the DSN win.
    public static let keepaliveDefaults: [(keyword: String, value: String)] = [
        ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
    ]

    public let connection: PostgresConnection
    public private(set) var extensions: InstalledExtensions

    private init(connection: PostgresConnection, extensions: InstalledExtensions) {
        self.connection = connection
        self.extensions = extensions
    }

    /// Connects and prepares the session as the reference collector does:
    /// `application_name`, a 2 s `lock_timeout` when the server has none,
    /// `search_path = pg_catalog` on PoWA 5 or when asked (per-database
    /// connections), `LOAD 'powa'` on PoWA 4.0, and optionally a
    /// `statement_timeout` (in seconds) so that a hung server costs one
    /// statement. Every
    /// session also reads and prints values the same way (`copyTextSettings`)
    /// and sends and reads text as UTF-8 whatever the locale.
    public static func open(
        _ parameters: ConnectionParameters, applicationName: String, statementTimeout: Double? = nil,
        secureSearchPath: Bool = false
    ) throws(PostgresError) -> PowaSession {
        var parameters = parameters
        for (keyword, value) in keepaliveDefaults { parameters = parameters.defaulting(keyword, value) }
        let connection = try PostgresConnection.connect(
            parameters.setting("client_encoding", "UTF8"),
            applicationName: applicationName, connectTimeout: connectTimeoutSeconds)
        do {
            // The settings that do not depend on the powa version go with
            // the reading of the extensions, in one round trip: the
            // repository connection is opened for each snapshot. Those that
            // do (PoWA 4.0's LOAD, PoWA 5's search_path) follow in a second
            // one, only when needed; the extensions query names everything
            // in full, so it reads the same under either search_path.
            var setup: [String] = []
            if secureSearchPath { setup.append(SessionSQL.secureSearchPath) }
            setup.append(SessionSQL.defaultLockTimeout)
            setup.append(SessionSQL.copyTextSettings)
            if let statementTimeout {
                // An integer of our own making, not a value from outside.
                setup.append("SET statement_timeout = \(Int(statementTimeout * 1000))")
            }
            let extensions = try readExtensions(connection, after: setup)
            let version = extensions.powaVersionText.flatMap(PowaVersion.init(extversion:))
            var versionSetup: [String] = []
            if version?.needsLoad == true { versionSetup.append(SessionSQL.loadPowa) }
            if !secureSearchPath, version?.usesSecureSearchPath ?? true {
                versionSetup.append(SessionSQL.secureSearchPath)
            }
            if !versionSetup.isEmpty { try connection.executeSimple(versionSetup.joined(separator: "; ")) }
            return PowaSession(connection: connection, extensions: extensions)
        } catch {
            connection.close()
            throw error
        }
    }

    /// The powa version this session's server has, if it is one the
    /// collector can work with (installed, 4 or later) on `role`'s side.
    public func validatedPowaVersion(on role: ServerRole) throws(PowaVersionError) -> PowaVersion {
        try PowaVersion.validated(extversion: extensions.powaVersionText, on: role)
    }

    /// The powa extension's schema, raw (`public` when it is not installed).
    public var powaSchemaName: String { extensions.schemas["powa"] ?? "public" }

    /// Reads the installed extensions again (the remote connection lives
    /// long; extensions may be added or dropped meanwhile).
    public func refreshExtensions() throws(PostgresError) {
        extensions = try Self.readExtensions(connection)
    }

    /// The installed extensions, read after `setup` (statements without
    /// parameters) in the same message when there is any.
    private static func readExtensions(_ connection: PostgresConnection, after setup: [String] = [])
        throws(PostgresError) -> InstalledExtensions
    {
        let result =
            setup.isEmpty
            ? try connection.execute(SessionSQL.installedExtensions)
            : try connection.executeSimple((setup + [SessionSQL.installedExtensions]).joined(separator: "; "))
        let rows = result.rows.map(\.values)
        do {
            return try InstalledExtensions(rows: rows)
        } catch {
            throw PostgresError(kind: .unexpectedResult, message: "reading installed extensions: \(error)")
        }
    }

    public func close() {
        connection.close()
    }

    /// The repository statements for this session's powa version. Falls
    /// back to PoWA 4.1's when the version cannot be read, which is enough
    /// for the statements that record errors (the same on every version).
    public func repositoryStatements(version: PowaVersion? = nil) -> RepositorySQL {
        RepositorySQL(
            version: version ?? extensions.powaVersionText.flatMap(PowaVersion.init(extversion:))
                ?? PowaVersion(major: 4, minor: 1),
            powaSchema: powaSchemaName,
            quoteIdentifier: quoteIdentifier)
    }

    /// Quotes an identifier through libpq; falls back to doubling quotes,
    /// which is what libpq does for any valid UTF-8 name.
    public func quoteIdentifier(_ identifier: String) -> String {
        (try? connection.escapeIdentifier(identifier))
            ?? "\"" + identifier.replacing("\"", with: "\"\"") + "\""
    }

    public func quoteLiteral(_ literal: String) -> String {
        (try? connection.escapeLiteral(literal))
            ?? "'" + literal.replacing("'", with: "''") + "'"
    }

    /// Runs one statement with its parameters.
    @discardableResult
    public func run(_ statement: SQLStatement) throws(PostgresError) -> QueryResult {
        try connection.execute(statement.text, statement.parameters)
    }

    /// Runs SQL text, one or more statements, without parameters.
    @discardableResult
    public func run(_ sql: String) throws(PostgresError) -> QueryResult {
        try connection.executeSimple(sql)
    }
}
