/// One row of the repository's `powa_servers` table, as the supervisor reads
/// it (`SELECT id, hostname, port, username, password, dbname, frequency,
/// alias FROM powa_servers WHERE id > 0 AND frequency > 0 ORDER BY id`).
public struct ServerRow: Equatable, Sendable {
    /// `id`; 0 is the repository itself.
    public var id: Int
    public var hostname: String
    public var port: Int
    public var username: String
    public var password: String?
    public var dbname: String
    /// Seconds between snapshots; `-1` means deactivated.
    public var frequency: Int
    /// NULL and `''` both mean "no alias".
    public var alias: String?

    public init(
        id: Int, hostname: String, port: Int, username: String, password: String?,
        dbname: String, frequency: Int, alias: String?
    ) {
        self.id = id
        self.hostname = hostname
        self.port = port
        self.username = username
        self.password = password
        self.dbname = dbname
        self.frequency = frequency
        self.alias = alias
    }

    /// Whether this collector collects the server: not the repository itself
    /// (`id = 0`) and not deactivated (`frequency <= 0`). The SQL already
    /// filters; this is checked again so that the rule lives in one tested
    /// place whatever query fed the rows.
    public var isCollected: Bool { id > 0 && frequency > 0 }

    /// The name workers and logs use: the alias when `useServerAlias` is on
    /// and the alias is not empty, `host:port` otherwise (as the reference).
    public func workerName(useServerAlias: Bool) -> String {
        if useServerAlias, let alias, !alias.isEmpty { return alias }
        return "\(hostname):\(port)"
    }

    /// Everything the worker for this server needs.
    public func workerConfiguration(collector: CollectorConfiguration) -> WorkerConfiguration {
        WorkerConfiguration(
            srvid: id,
            name: workerName(useServerAlias: collector.useServerAlias),
            frequency: frequency,
            server: ServerConnectionParameters(
                host: hostname, port: port, user: username, password: password, dbname: dbname),
            repositoryDSN: collector.repositoryDSN,
            debug: collector.debug,
            snapshotTimeout: collector.snapshotTimeout,
            usesSnapshotSlots: true)
    }

    /// The worker configurations of the collected servers among `rows`, by
    /// server id. Should a server id repeat, the last row wins.
    public static func workerConfigurations(
        _ rows: [ServerRow], collector: CollectorConfiguration
    ) -> [Int: WorkerConfiguration] {
        var configurations: [Int: WorkerConfiguration] = [:]
        for row in rows where row.isCollected {
            configurations[row.id] = row.workerConfiguration(collector: collector)
        }
        return configurations
    }
}
