import PostgresClient
import PowaCore

/// A throwaway PoWA repository database (copied from the environment's
/// template) on a PoWA 4.1, 5.0 or 5.3 repository cluster, with helpers to
/// register remote servers and read what the collector wrote. One remote
/// cluster listens on 127.0.0.1…127.0.0.N, each address a distinct server.
public final class PowaRepositoryFixture: @unchecked Sendable {
    public let cluster: TestCluster
    public let remote: TestCluster
    public let database: String
    /// Superuser connection to the repository database.
    public let admin: PostgresConnection
    /// Whether this fixture made the database, and so drops it.
    private let ownsDatabase: Bool
    private var dropped = false

    /// A new database copied from the repository template of `release`,
    /// dropped with the fixture; its remote is that release's remote cluster.
    public init(release: PowaRelease) throws {
        cluster = release.repository
        remote = release.remote
        database = try cluster.createRepositoryDatabase()
        admin = try cluster.connect(database: database)
        ownsDatabase = true
    }

    /// As `init(release:)`, PoWA `powaMajor` 4 (4.1) or 5 (5.0).
    public convenience init(powaMajor: Int) throws {
        try self.init(release: PowaRelease(major: powaMajor))
    }

    /// An existing repository database (for instance on a dedicated
    /// cluster), left in place.
    public init(cluster: TestCluster, remote: TestCluster, database: String) throws {
        self.cluster = cluster
        self.remote = remote
        self.database = database
        admin = try cluster.connect(database: database)
        ownsDatabase = false
    }

    deinit {
        if ownsDatabase { drop() } else { admin.close() }
    }

    public var powaMajor: Int { cluster.powaMajor }
    public var release: PowaRelease { cluster.release }

    public func close() { admin.close() }

    /// Drops the database, terminating whatever is still connected.
    public func drop() {
        admin.close()
        guard !dropped else { return }
        dropped = true
        cluster.dropDatabase(database)
    }

    /// The repository DSN a collector is given.
    public var dsn: String { cluster.uri(database: database) }

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
        try admin.execute(
            """
            SELECT powa_register_server(hostname => $1, port => $2::integer, alias => $3, username => $4,
                password => $5, dbname => $6, frequency => $7::integer, extensions => $8::text[])
            """,
            [
                host, String(port), alias, username, password, dbname, String(frequency),
                TextArrayLiteral.encode(extensions),
            ])
        let id = try admin.execute(
            "SELECT id FROM powa_servers WHERE hostname = $1 AND port = $2::integer", [host, String(port)])
        return id.first?[0].flatMap { Int($0) } ?? -1
    }

    /// The remote cluster at 127.0.0.`address` (or another port).
    @discardableResult
    public func registerServer(
        address: Int, port: Int? = nil, alias: String? = nil, frequency: Int = 5,
        username: String = TestEnvironment.superuser, password: String? = nil
    ) throws -> Int {
        try registerServer(
            host: "127.0.0.\(address)", port: port, alias: alias, username: username, password: password,
            frequency: frequency)
    }

    /// A server registered at 127.0.0.`address` on a port where nothing
    /// listens (the repository cluster listens on 127.0.0.1 only).
    @discardableResult
    public func registerUnreachableServer(address: Int, alias: String? = nil, frequency: Int = 5) throws -> Int {
        try registerServer(address: address, port: cluster.port, alias: alias, frequency: frequency)
    }

    /// `powa_snapshot_metas.snapts` of a server as seconds since the epoch;
    /// nil while it has never been snapshotted (`-infinity`).
    public func lastSnapshot(_ srvid: Int) throws -> Double? {
        let row = try admin.execute(
            "SELECT extract(epoch FROM snapts)::float8 FROM powa_snapshot_metas WHERE srvid = $1", [String(srvid)]
        ).first
        guard let text = row?[0], let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The repository's clock, seconds since the epoch.
    public func now() throws -> Double {
        guard let text = try admin.execute("SELECT extract(epoch FROM clock_timestamp())::float8").first?[0],
            let value = Double(text)
        else { throw TestProcessError("no time from the repository") }
        return value
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
        try admin.execute(sql, parameters)
    }

    /// A single integer result.
    public func count(_ sql: String, _ parameters: [String?] = []) throws -> Int {
        try query(sql, parameters).first?[0].flatMap { Int($0) } ?? 0
    }

    /// `powa_snapshot_metas.errors` of a server, nil when NULL.
    public func errors(srvid: Int) throws -> [String]? {
        guard
            let literal = try query("SELECT errors FROM powa_snapshot_metas WHERE srvid = $1", [String(srvid)]).first?[
                0]
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
        ).rows.compactMap { $0[0].flatMap { Double($0) } }
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
