import PostgresClient
import PowaCore

/// A throwaway PoWA repository database (copied from the environment's
/// template) on the PoWA 4 or PoWA 5 repository cluster, with helpers to
/// register remote servers and read what the collector wrote.
public final class PowaRepositoryFixture {
    public let powaMajor: Int
    public let repository: TestCluster
    public let remote: TestCluster
    public let database: String
    private let connection: PostgresConnection

    public init(powaMajor: Int) throws {
        self.powaMajor = powaMajor
        repository = powaMajor >= 5 ? TestEnvironment.powa5Repository : TestEnvironment.powa4Repository
        remote = powaMajor >= 5 ? TestEnvironment.powa5Remote : TestEnvironment.powa4Remote
        database = try repository.createRepositoryDatabase()
        connection = try repository.connect(database: database)
    }

    deinit {
        connection.close()
        repository.dropDatabase(database)
    }

    /// The repository DSN a collector is given.
    public var dsn: String { repository.uri(database: database) }

    public static let allExtensions = ["pg_stat_kcache", "pg_qualstats", "pg_wait_sampling", "pg_track_settings"]

    /// Registers a remote server with `powa_register_server` and returns its
    /// srvid. By default the environment's remote cluster, seen through a
    /// loopback address of its own so each server is distinct.
    @discardableResult
    public func registerServer(
        host: String = "127.0.0.1", port: Int? = nil, alias: String? = nil, username: String = "postgres",
        password: String? = nil, dbname: String = "powa", frequency: Int = 5,
        extensions: [String] = PowaRepositoryFixture.allExtensions
    ) throws -> Int {
        let port = port ?? remote.port
        try connection.execute(
            """
            SELECT powa_register_server(hostname => $1, port => $2::integer, alias => $3, username => $4,
                password => $5, dbname => $6, frequency => $7::integer, extensions => $8::text[])
            """,
            [host, String(port), alias, username, password, dbname, String(frequency),
             TextArrayLiteral.encode(extensions)])
        let id = try connection.execute(
            "SELECT id FROM powa_servers WHERE hostname = $1 AND port = $2::integer", [host, String(port)])
        return try id.first?.decode(Int.self, at: 0) ?? -1
    }

    /// The configuration a supervisor would hand the worker of `srvid`.
    public func workerConfiguration(
        srvid: Int, frequency: Int = 5, host: String = "127.0.0.1", port: Int? = nil, user: String = "postgres",
        password: String? = nil, dbname: String = "powa", snapshotTimeout: Double? = nil, debug: Bool = true
    ) -> WorkerConfiguration {
        let port = port ?? remote.port
        return WorkerConfiguration(
            srvid: srvid, name: "\(host):\(port)", frequency: frequency,
            server: ServerConnectionParameters(host: host, port: port, user: user, password: password, dbname: dbname),
            repositoryDSN: dsn, debug: debug, snapshotTimeout: snapshotTimeout)
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        try connection.execute(sql, parameters)
    }

    /// A single integer result.
    public func count(_ sql: String, _ parameters: [String?] = []) throws -> Int {
        try query(sql, parameters).first?.decode(Int.self, at: 0) ?? 0
    }

    /// `powa_snapshot_metas.errors` of a server, nil when NULL.
    public func errors(srvid: Int) throws -> [String]? {
        guard let literal = try query("SELECT errors FROM powa_snapshot_metas WHERE srvid = $1", [String(srvid)]).first?[0]
        else { return nil }
        return try TextArrayLiteral.decode(literal).compactMap { $0 }
    }

    /// Start times of the server's snapshots as the repository recorded
    /// them: one bgwriter row per snapshot, stamped by the remote.
    public func snapshotTimes(srvid: Int) throws -> [Double] {
        try query(
            """
            SELECT extract(epoch FROM (record).ts) FROM powa_stat_bgwriter_history_current
            WHERE srvid = $1 ORDER BY 1
            """, [String(srvid)]
        ).rows.compactMap { try $0.decode(Double.self, at: 0) }
    }

    /// Rows left in the repository's `_tmp` tables for a server: must be
    /// zero after every committed snapshot.
    public func leftoverTemporaryRows(srvid: Int) throws -> Int {
        let tables = try query(
            """
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'srvid'
            WHERE c.relkind = 'r' AND c.relname LIKE '%\\_tmp'
            """
        ).rows.compactMap { $0[0] }
        var total = 0
        for table in tables {
            total += try count("SELECT count(*) FROM \(table) WHERE srvid = $1", [String(srvid)])
        }
        return total
    }
}
