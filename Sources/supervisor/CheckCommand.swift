import ArgumentParser
import PostgresClient
import PowaCore
import ProcessSupport

/// `powa-collector check`: tells an operator, before starting the
/// collector or after changing a server, whether everything a snapshot
/// needs is in place.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the configuration, the repository and every enabled server, then exit.",
        discussion: """
            Loads the configuration, connects to the repository and reads its powa version, then \
            checks every enabled server of powa_servers in parallel, each within a bounded time: the \
            connection (with libpq's error), a powa major.minor equal to the repository's, every \
            extension configured for it installed on the remote, and the privileges a snapshot needs. \
            Prints one line per server. Exit status: 0 when everything passes, 1 when some server \
            fails, 2 when the configuration or the repository fails.
            """)

    /// Servers checked at once.
    static let parallelChecks = 32

    @OptionGroup var configurationOption: ConfigurationOption

    var config: String? { configurationOption.config }

    @Flag(name: .long, help: "Print the report as one JSON object.")
    var json = false

    func run() throws {
        let report = Self.report(configurationPath: config)
        let text = json ? report.json : report.text
        _ = try? FileDescriptorIO.writeAll(1, Array(text.utf8))
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    static func report(configurationPath: String?) -> CheckReport {
        let source = ConfigurationSource.from(
            commandLinePath: configurationPath, homeDirectory: ConfigurationFile.homeDirectory)
        let configuration: CollectorConfiguration
        switch ConfigurationFile.load(source) {
        case .success(let loaded): configuration = loaded.configuration
        case .failure(let error): return .configurationFailed("configuration: \(error)")
        }
        let repository: RepositorySession
        do {
            repository = try RepositorySession.open(dsn: configuration.repositoryDSN)
        } catch {
            return .configurationFailed(
                "cannot use the repository "
                    + "(\(ConnectionParameters.conninfo(configuration.repositoryDSN).redactedDescription)): \(error)")
        }
        defer { repository.close() }
        if let problem = snapshotPrivilegeProblem(repository) {
            return CheckReport(repositoryProblem: problem, repositoryVersion: repository.powaVersion.text, servers: [])
        }
        let checks: [ServerCheck]
        do {
            checks = try repository.readServerList().filter(\.isCollected).map { row throws(RepositorySessionError) in
                ServerCheck(
                    row: row, name: row.workerName(useServerAlias: configuration.useServerAlias),
                    repositoryVersion: repository.powaVersion,
                    configuredExtensions: try column(
                        repository,
                        CheckSQL.configuredExtensions(
                            powaSchema: repository.powaSchema, version: repository.powaVersion, srvid: row.id)),
                    datasourceFunctions: try column(
                        repository,
                        CheckSQL.datasourceFunctions(
                            powaSchema: repository.powaSchema, srvid: row.id)))
            }
        } catch {
            return CheckReport(
                repositoryProblem: "cannot read the servers: \(error)", repositoryVersion: repository.powaVersion.text,
                servers: [])
        }
        let results = BoundedParallelism.run(checks, width: parallelChecks)
        return CheckReport(repositoryProblem: nil, repositoryVersion: repository.powaVersion.text, servers: results)
    }

    private static func snapshotPrivilegeProblem(_ repository: RepositorySession) -> String? {
        let statement = CheckSQL.canTakeSnapshot(powaSchema: repository.powaSchemaName)
        do {
            let value = try repository.connection.execute(statement.text, statement.parameters).first?[0]
            if value == "t" { return nil }
            return "the repository role may not execute powa_take_snapshot (GRANT EXECUTE, or use the powa owner)"
        } catch {
            return "cannot check the repository role's privileges: \(error)"
        }
    }

    private static func column(_ repository: RepositorySession, _ statement: SQLStatement)
        throws(RepositorySessionError) -> [String]
    {
        do {
            return try repository.connection.execute(statement.text, statement.parameters).rows.compactMap { $0[0] }
        } catch {
            throw .postgres(error)
        }
    }
}
