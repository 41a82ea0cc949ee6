import Logging
import PostgresClient
import PowaCore

/// An open connection to a PoWA database (repository or remote), with what
/// the collector learns once per connection: the powa extension's version
/// and the schema of every installed extension.
final class PowaSession {
    let connection: PostgresConnection
    /// `extversion` of powa, nil when the extension is not installed.
    let powaVersion: String?
    /// Extension name → schema name (unquoted) of every installed extension.
    let extensionSchemas: [String: String]

    private init(connection: PostgresConnection, powaVersion: String?, extensionSchemas: [String: String]) {
        self.connection = connection
        self.powaVersion = powaVersion
        self.extensionSchemas = extensionSchemas
    }

    /// Connects and prepares the session as the reference collector does:
    /// `application_name`, a 2 s `lock_timeout` when the server has none,
    /// `search_path = pg_catalog` on PoWA 5 (everything is then qualified),
    /// `LOAD 'powa'` on PoWA 4.0, and optionally a `statement_timeout`.
    static func open(
        _ parameters: ConnectionParameters, applicationName: String, statementTimeout: Double? = nil
    ) throws(PostgresError) -> PowaSession {
        let connection = try PostgresConnection.connect(
            parameters.setting("keepalives_idle", "30").setting("keepalives_interval", "10"),
            applicationName: applicationName, connectTimeout: 10)
        do {
            try connection.execute(
                """
                SELECT pg_catalog.set_config(name, '2000', false) FROM pg_catalog.pg_settings
                WHERE name = 'lock_timeout' AND setting = '0'
                """)
            if let statementTimeout {
                try connection.execute(
                    "SELECT pg_catalog.set_config('statement_timeout', $1, false)",
                    [String(Int(statementTimeout * 1000))])
            }
            var schemas: [String: String] = [:]
            for row in try connection.execute(
                """
                SELECT e.extname, n.nspname, e.extversion FROM pg_catalog.pg_extension e
                JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                """
            ).rows {
                if let name = row[0], let schema = row[1] { schemas[name] = schema }
            }
            let version = try connection.execute(
                "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'powa'"
            ).first?[0]
            let major = version.flatMap { Int($0.split(separator: ".").first ?? "") }
            if major == nil || major! >= 5 {
                try connection.executeSimple("SET search_path TO pg_catalog")
            }
            if let version, version.hasPrefix("4.0") {
                try connection.executeSimple("LOAD 'powa'")
            }
            return PowaSession(connection: connection, powaVersion: version, extensionSchemas: schemas)
        } catch {
            connection.close()
            throw error
        }
    }

    func close() {
        connection.close()
    }

    /// The schema holding `extension`'s objects, quoted for SQL.
    func quotedSchema(of extensionName: String) throws(PostgresError) -> String? {
        guard let schema = extensionSchemas[extensionName] else { return nil }
        return try connection.escapeIdentifier(schema)
    }
}
