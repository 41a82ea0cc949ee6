import Glibc
import PostgresClient

/// The PostgreSQL clusters that `scripts/pg-env.sh up` started, as described
/// by the variables of its `env.sh` (exported by `scripts/test`).
///
/// Suites that need PostgreSQL are enabled only when these variables are
/// present, so `swift test --filter PowaCoreTests` runs anywhere; the
/// README's test command always provides them.
public enum TestEnvironment {
    public static func variable(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    public static var isAvailable: Bool { variable("POWA4_REPO_PORT") != nil }

    public static var host: String { variable("POWA_TEST_HOST") ?? "127.0.0.1" }
    public static var superuser: String { variable("POWA_TEST_SUPERUSER") ?? "postgres" }
    public static var passwordRole: String { variable("POWA_TEST_PASSWORD_ROLE") ?? "powa_pw_user" }
    public static var password: String { variable("POWA_TEST_PASSWORD") ?? "" }
    public static var unprivilegedRole: String { variable("POWA_TEST_UNPRIVILEGED_ROLE") ?? "powa_nobody" }
    public static var repositoryTemplate: String { variable("POWA_TEST_REPO_TEMPLATE") ?? "powa_repo_template" }
    public static var remoteAddressCount: Int { Int(variable("POWA_TEST_REMOTE_ADDRESS_COUNT") ?? "") ?? 1 }
    public static var environmentDirectory: String? { variable("POWA_TEST_ENV_DIR") }
    public static var script: String? { variable("POWA_TEST_PG_ENV") }
    /// The virtual environments of `pg-env.sh install-powa-web`, when made.
    public static var powaWeb53Environment: String? { variable("POWA_TEST_POWA_WEB53") }
    public static var powaWeb41Environment: String? { variable("POWA_TEST_POWA_WEB41") }

    public static var powa4Repository: TestCluster { cluster("POWA4_REPO_PORT", .powa4) }
    public static var powa4Remote: TestCluster { cluster("POWA4_REMOTE_PORT", .powa4) }
    public static var powa5Repository: TestCluster { cluster("POWA5_REPO_PORT", .powa50) }
    public static var powa5Remote: TestCluster { cluster("POWA5_REMOTE_PORT", .powa50) }
    public static var powa53Repository: TestCluster { cluster("POWA53_REPO_PORT", .powa53) }
    public static var powa53Remote: TestCluster { cluster("POWA53_REMOTE_PORT", .powa53) }

    private static func cluster(_ portVariable: String, _ release: PowaRelease) -> TestCluster {
        TestCluster(host: host, port: Int(variable(portVariable) ?? "") ?? 5432, release: release)
    }
}

/// One running PostgreSQL cluster of the test environment.
public struct TestCluster: Sendable {
    public var host: String
    public var port: Int
    public var release: PowaRelease

    public init(host: String, port: Int, release: PowaRelease) {
        self.host = host
        self.port = port
        self.release = release
    }

    public init(host: String, port: Int, powaMajor: Int) {
        self.init(host: host, port: port, release: PowaRelease(major: powaMajor))
    }

    public var powaMajor: Int { release.major }

    /// Parameters for the superuser on `database`.
    public func parameters(database: String = "postgres", user: String? = nil, password: String? = nil)
        -> ConnectionParameters
    {
        .fields(host: host, port: port, user: user ?? TestEnvironment.superuser, password: password, dbname: database)
    }

    /// A libpq URI for `database` as the superuser.
    public func uri(database: String) -> String {
        "postgresql://\(TestEnvironment.superuser)@\(host):\(port)/\(database)"
    }

    public func connect(database: String = "postgres") throws -> PostgresConnection {
        try PostgresConnection.connect(parameters(database: database), applicationName: "powa-collector tests")
    }

    /// Creates a database with a unique name (from `template` when given)
    /// and returns its name. Each test gets its own, so tests can run in
    /// parallel: LISTEN/NOTIFY channels and powa tables are per database.
    public func createDatabase(prefix: String = "t", template: String? = nil) throws -> String {
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))_\(getpid())"
        let admin = try connect()
        defer { admin.close() }
        let quoted = try admin.escapeIdentifier(name)
        if let template {
            // CREATE DATABASE … TEMPLATE fails while another session is in
            // the template; tests running in parallel may collide, so retry.
            let statement = "CREATE DATABASE \(quoted) TEMPLATE \(try admin.escapeIdentifier(template))"
            for attempt in 1...50 {
                do {
                    try admin.executeSimple(statement)
                    break
                } catch {
                    guard error.sqlState == "55006", attempt < 50 else { throw error }
                    usleep(100_000)
                }
            }
        } else {
            try admin.executeSimple("CREATE DATABASE \(quoted)")
        }
        return name
    }

    /// A repository database with the powa extension, copied from the
    /// environment's template.
    public func createRepositoryDatabase() throws -> String {
        try createDatabase(prefix: "repo", template: TestEnvironment.repositoryTemplate)
    }

    /// A remote database of its own with powa and the given extensions
    /// (each created on its own, as on a real remote), then `statements`.
    public func createRemoteDatabase(
        prefix: String,
        extensions: [String] = ["pg_qualstats", "pg_stat_kcache", "pg_wait_sampling", "pg_track_settings"],
        then statements: (String) -> [String] = { _ in [] }
    ) throws -> String {
        let name = try createDatabase(prefix: prefix)
        let connection = try connect(database: name)
        defer { connection.close() }
        try connection.executeSimple("CREATE EXTENSION powa CASCADE")
        for extensionName in extensions {
            try connection.executeSimple("CREATE EXTENSION \(try connection.escapeIdentifier(extensionName))")
        }
        for statement in statements(name) { try connection.executeSimple(statement) }
        return name
    }

    /// Drops `database`, terminating whatever is still connected to it.
    public func dropDatabase(_ name: String) {
        guard let admin = try? connect() else { return }
        defer { admin.close() }
        guard let quoted = try? admin.escapeIdentifier(name) else { return }
        _ = try? admin.executeSimple("DROP DATABASE IF EXISTS \(quoted) WITH (FORCE)")
    }
}
