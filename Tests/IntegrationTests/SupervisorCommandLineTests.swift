import Glibc
import PowaCore
import ProcessSupport
import TestSupport
import Testing

/// `powa-collector`'s command line: what an operator sees before any
/// server is collected.
@Suite struct SupervisorCommandLineTests {
    static func run(_ arguments: [String], configuration: String? = nil) async throws
        -> (termination: ChildProcess.Termination?, stdout: String, stderr: String, configurationPath: String)
    {
        let directory = try TemporaryDirectory(prefix: "powa-cli")
        defer { directory.remove() }
        var arguments = arguments
        var path = directory.path + "/powa-collector.conf"
        if let configuration {
            path = try directory.write("powa-collector.conf", configuration)
            arguments += ["--config", path]
        }
        let result = try await TestProcess.run(
            BuiltProducts.collector, arguments, in: directory, name: "cli", timeout: 30)
        return (result.termination, result.stdout, result.stderr, path)
    }

    @Test func versionIsTheCollectorVersion() async throws {
        let result = try await Self.run(["--version"])
        #expect(result.termination == .exited(0))
        #expect(result.stdout == CollectorVersion.current + "\n")
    }

    @Test func helpDescribesTheConfigOptionAndTheLookup() async throws {
        let result = try await Self.run(["--help"])
        #expect(result.termination == .exited(0))
        #expect(result.stdout.contains("--config <path>"))
        #expect(result.stdout.contains("/etc/powa-collector.conf"))
    }

    @Test func aMissingConfigurationFileIsNamed() async throws {
        let result = try await Self.run(["--config", "/nonexistent/powa-collector.conf"])
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("/nonexistent/powa-collector.conf"))
    }

    @Test func invalidJSONIsLocatedByLineAndColumn() async throws {
        let result = try await Self.run(
            [],
            configuration: """
                {
                    "repository": {"dsn": "postgresql://powa@localhost/powa"},
                    "debug": false,
                }
                """)
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains(result.configurationPath))
        #expect(result.stderr.contains("line 4, column 1"), "\(result.stderr)")
    }

    @Test(arguments: [
        (#"{"debug": true}"#, "repository.dsn"),
        (#"{"repository": {"dsn": "x"}, "use_server_alias": "yes"}"#, "use_server_alias"),
        (#"{"repository": {"dsn": "x"}, "snapshot_timeout": "60"}"#, "snapshot_timeout"),
        (#"{"repository": {"dsn": "x"}, "snapshot_timeout": 0}"#, "snapshot_timeout"),
    ])
    func anInvalidSettingIsNamedWithTheFile(configuration: String, key: String) async throws {
        let result = try await Self.run([], configuration: configuration)
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains(result.configurationPath))
        #expect(result.stderr.contains(key), "\(result.stderr)")
    }

    /// Nothing can be collected without the repository: like the reference,
    /// the collector exits 1 at startup, and the DSN's password stays out of
    /// the log even at debug level.
    @Test func anUnreachableRepositoryEndsTheStartWithoutShowingItsPassword() async throws {
        let secret = "Zq9-never-print-me"
        let result = try await Self.run(
            [],
            configuration: SupervisorProcess.configuration(
                dsn: "postgresql://powa:\(secret)@127.0.0.1:1/powa", debug: true))
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("repository"), "\(result.stderr)")
        #expect(!result.stderr.contains(secret), "\(result.stderr)")
    }
}

/// Startup against a repository without PoWA.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorStartupTests {
    @Test func aRepositoryWithoutPowaIsRefused() async throws {
        let cluster = TestEnvironment.powa4Repository
        let directory = try TemporaryDirectory(prefix: "powa-cli")
        defer { directory.remove() }
        let path = try directory.write(
            "c.conf", SupervisorProcess.configuration(dsn: cluster.uri(database: "postgres")))
        let result = try await TestProcess.run(
            BuiltProducts.collector, ["--config", path], in: directory, name: "cli", timeout: 30)
        #expect(result.termination == .exited(1))
        #expect(result.stderr.contains("powa extension is not installed"), "\(result.stderr)")
    }
}
