import ArgumentParser
import Glibc
import PostgresClient
import PowaCore
import ProcessSupport

/// `powa-collector status`: asks the running collector, over the same
/// NOTIFY protocol powa-web uses, for the status of its workers, and adds
/// what the repository knows (names, last snapshot, last error).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask the running collector for its workers' status and print it.",
        discussion: """
            Sends WORKERS_STATUS on the repository's powa_collector channel with a fresh response \
            channel, as powa-web does, and prints one line per server: srvid, name, status, last \
            snapshot and last error (the last two from powa_snapshot_metas), and, when several \
            instances share the repository, the one that owns each server. Exits 1 with a message \
            when no collector answers within 2 seconds, 2 when the configuration or the repository fails.
            """)

    static let answerTimeoutSeconds = 2.0

    @OptionGroup var configurationOption: ConfigurationOption

    var config: String? { configurationOption.config }

    @Flag(name: .long, help: "Print the table as a JSON array.")
    var json = false

    func run() throws {
        let source = ConfigurationSource.from(commandLinePath: config, homeDirectory: ConfigurationFile.homeDirectory)
        let configuration: CollectorConfiguration
        switch ConfigurationFile.load(source) {
        case .success(let loaded): configuration = loaded.configuration
        case .failure(let error):
            SupervisorCommand.printError("\(error)")
            throw ExitCode(2)
        }
        let repository: RepositorySession
        do {
            repository = try RepositorySession.open(dsn: configuration.repositoryDSN)
        } catch {
            SupervisorCommand.printError(
                "cannot use the repository "
                    + "(\(ConnectionParameters.conninfo(configuration.repositoryDSN).redactedDescription)): \(error)")
            throw ExitCode(2)
        }
        defer { repository.close() }
        let statuses: [Int: String]
        switch Self.askCollector(repository) {
        case .success(let answer): statuses = answer
        case .failure(let problem):
            SupervisorCommand.printError(problem.message)
            throw ExitCode(problem.exitCode)
        }
        var rows: [StatusRow]
        do {
            rows = try Self.rows(repository, statuses: statuses, useServerAlias: configuration.useServerAlias)
        } catch {
            SupervisorCommand.printError("cannot read the servers from the repository: \(error)")
            throw ExitCode(2)
        }
        let owners = Self.owners(repository)
        rows = rows.map { row in
            var row = row
            row.owner = owners.owners[row.srvid]
            return row
        }
        let text = json ? StatusTable.json(rows) : StatusTable.text(rows, showingOwners: owners.liveInstances > 1)
        _ = try? FileDescriptorIO.writeAll(1, Array(text.utf8))
    }

    struct Problem: Error {
        var message: String
        var exitCode: Int32
    }

    /// One request on a channel of our own, then up to 2 s for its answer.
    static func askCollector(_ repository: RepositorySession) -> Result<[Int: String], Problem> {
        let channel = "powa_collector_status_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        do {
            try repository.connection.listen(channel)
            try repository.connection.notify(RepositorySession.channel, payload: "WORKERS_STATUS \(channel)")
        } catch {
            return .failure(Problem(message: "cannot send the request: \(error)", exitCode: 2))
        }
        let deadline = SystemClock.now() + answerTimeoutSeconds
        while true {
            do {
                for notification in try repository.drainNotifications() where notification.channel == channel {
                    if let statuses = WorkersStatusReply.statuses(payload: notification.payload) {
                        return .success(statuses)
                    }
                    return .failure(
                        Problem(
                            message:
                                "the collector refused: \(WorkersStatusReply.refusal(payload: notification.payload))"
                                + " (the role of repository.dsn needs the powa_admin role or superuser)",
                            exitCode: 1))
                }
            } catch {
                return .failure(Problem(message: "lost the repository connection: \(error)", exitCode: 2))
            }
            let left = deadline - SystemClock.now()
            if left <= 0 { break }
            var entries = [pollfd(fd: repository.socket, events: Int16(POLLIN), revents: 0)]
            _ = try? FileDescriptorIO.poll(&entries, timeoutMilliseconds: FileDescriptorIO.pollTimeout(seconds: left))
        }
        return .failure(
            Problem(
                message: "no collector answered within \(Int(answerTimeoutSeconds)) s: is powa-collector running "
                    + "and connected to this repository? (systemctl status powa-collector; its log)",
                exitCode: 1))
    }

    static func rows(_ repository: RepositorySession, statuses: [Int: String], useServerAlias: Bool)
        throws(PostgresError) -> [StatusRow]
    {
        let nsp = repository.powaSchema
        let result = try repository.connection.execute(
            "SELECT s.id, s.hostname, s.port, s.alias, extract(epoch FROM m.snapts)::float8,"
                + " pg_catalog.array_to_string(m.errors, E'\\n')"
                + " FROM \(nsp).powa_servers s LEFT JOIN \(nsp).powa_snapshot_metas m ON m.srvid = s.id"
                + " WHERE s.id > 0 ORDER BY s.id")
        var rows: [StatusRow] = []
        var seen: Set<Int> = []
        for row in result.rows {
            guard let srvid = row[0].flatMap({ Int($0) }) else { continue }
            let alias = row[3]
            let name = useServerAlias && !(alias ?? "").isEmpty ? alias! : "\(row[1] ?? "?"):\(row[2] ?? "?")"
            let last = row[4].flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil }
            let error = row[5].flatMap { $0.isEmpty ? nil : $0 }
            seen.insert(srvid)
            // Servers the collector does not run (deactivated) are listed
            // only when the repository has something to say about them.
            guard statuses[srvid] != nil || last != nil else { continue }
            rows.append(
                StatusRow(srvid: srvid, name: name, status: statuses[srvid], lastSnapshot: last, lastError: error))
        }
        for srvid in statuses.keys.sorted() where !seen.contains(srvid) {
            rows.append(
                StatusRow(
                    srvid: srvid, name: "server \(srvid)", status: statuses[srvid], lastSnapshot: nil, lastError: nil))
        }
        return rows.sorted { $0.srvid < $1.srvid }
    }
}
