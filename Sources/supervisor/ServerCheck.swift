import PostgresClient
import PowaCore

/// The checks of one remote server for `powa-collector check`, each bounded
/// in time: connecting (`connect_timeout`) and every statement
/// (`statement_timeout`), so that a dead or frozen server costs at most
/// `timeLimitSeconds` plus a network round trip.
struct ServerCheck: Sendable {
    static let connectTimeoutSeconds = 5
    static let statementTimeoutMilliseconds = 5000

    let row: ServerRow
    let name: String
    let repositoryVersion: PowaVersion
    /// Extensions the repository has configured for this server.
    let configuredExtensions: [String]
    /// Source functions of its enabled datasources.
    let datasourceFunctions: [String]

    func run() -> ServerCheckResult {
        ServerCheckResult(srvid: row.id, name: name, problems: problems())
    }

    private func problems() -> [String] {
        let parameters = ConnectionParameters.fields(
            host: row.hostname, port: row.port, user: row.username, password: row.password, dbname: row.dbname
        )
        .setting("options", "-c statement_timeout=\(Self.statementTimeoutMilliseconds)")
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                parameters, applicationName: "powa-collector check", connectTimeout: Self.connectTimeoutSeconds)
        } catch {
            return ["cannot connect: \(error)"]
        }
        defer { connection.close() }
        var problems: [String] = []
        let installed: InstalledExtensions
        do {
            installed = try InstalledExtensions(
                rows: try connection.execute(SessionSQL.installedExtensions).rows.map(\.values))
        } catch {
            return ["cannot list the installed extensions: \(error)"]
        }
        do {
            let remote = try PowaVersion.validated(extversion: installed.powaVersionText, on: .remote)
            try PowaVersion.checkCompatible(repository: repositoryVersion, remote: remote)
        } catch {
            problems.append("\(error)")
        }
        let missing = configuredExtensions.filter { installed.byName[$0] == nil }
        if !missing.isEmpty {
            problems.append(
                "extension\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) configured "
                    + "in the repository but not installed on the remote (CREATE EXTENSION in database \(row.dbname), "
                    + "or deactivate it with powa_deactivate_extension)")
        }
        do {
            let result = try connection.execute(
                CheckSQL.remotePrivileges, [TextArrayLiteral.encode(datasourceFunctions)])
            let readsAllStats = result.first?[0] == "t"
            if !readsAllStats {
                problems.append(
                    "role \(row.username) is neither superuser nor member of pg_read_all_stats: "
                        + "other roles' statements would be hidden (GRANT pg_read_all_stats TO \(row.username))")
            }
            if let refused = result.first?[1], !refused.isEmpty {
                problems.append("role \(row.username) may not execute \(refused) (GRANT EXECUTE on them)")
            }
        } catch {
            problems.append("cannot check the role's privileges: \(error)")
        }
        return problems
    }
}
