import Glibc
import PostgresClient

/// A throwaway PoWA repository database for one collector test, with the
/// matching remote cluster registered as many servers as needed (one remote
/// cluster listens on 127.0.0.1…127.0.0.N, each address a distinct server).
public final class CollectorRepository: @unchecked Sendable {
    public let cluster: TestCluster
    public let remote: TestCluster
    public let database: String
    /// Superuser connection to the repository database.
    public let admin: PostgresConnection

    /// Extensions registered with each remote server, all present on the
    /// test remotes.
    public static let remoteExtensions = "{pg_stat_kcache,pg_qualstats,pg_wait_sampling,pg_track_settings}"

    /// A new database copied from the repository template of PoWA
    /// `powaMajor` (4 or 5).
    public init(powaMajor: Int) throws {
        cluster = powaMajor >= 5 ? TestEnvironment.powa5Repository : TestEnvironment.powa4Repository
        remote = powaMajor >= 5 ? TestEnvironment.powa5Remote : TestEnvironment.powa4Remote
        database = try cluster.createRepositoryDatabase()
        admin = try cluster.connect(database: database)
    }

    /// An existing repository database (for instance on a dedicated cluster).
    public init(cluster: TestCluster, remote: TestCluster, database: String) throws {
        self.cluster = cluster
        self.remote = remote
        self.database = database
        admin = try cluster.connect(database: database)
    }

    /// The libpq URI the collector's configuration uses.
    public var dsn: String { cluster.uri(database: database) }

    /// Registers a server with `powa_register_server` and returns its id.
    /// By default it is the remote cluster at 127.0.0.`address`.
    @discardableResult
    public func registerServer(
        address: Int, port: Int? = nil, alias: String? = nil, frequency: Int = 5,
        username: String = TestEnvironment.superuser, password: String? = nil
    ) throws -> Int {
        let host = "127.0.0.\(address)"
        let port = port ?? remote.port
        try admin.execute(
            "SELECT powa_register_server(hostname => $1, port => $2::integer, alias => $3, username => $4,"
                + " password => $5, dbname => 'powa', frequency => $6::integer, extensions => $7::text[])",
            [host, String(port), alias, username, password, String(frequency), Self.remoteExtensions])
        let row = try admin.execute("SELECT id FROM powa_servers WHERE hostname = $1 AND port = $2::integer",
                                    [host, String(port)]).first
        guard let id = row?[0].flatMap({ Int($0) }) else { throw TestProcessError("server \(host):\(port) not registered") }
        return id
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
            "SELECT extract(epoch FROM snapts)::float8 FROM powa_snapshot_metas WHERE srvid = $1", [String(srvid)]).first
        guard let text = row?[0], let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The repository's clock, seconds since the epoch.
    public func now() throws -> Double {
        guard let text = try admin.execute("SELECT extract(epoch FROM clock_timestamp())::float8").first?[0],
              let value = Double(text) else { throw TestProcessError("no time from the repository") }
        return value
    }

    public func close() { admin.close() }

    /// Drops the database (terminating whatever is still connected).
    public func drop() {
        admin.close()
        cluster.dropDatabase(database)
    }
}
