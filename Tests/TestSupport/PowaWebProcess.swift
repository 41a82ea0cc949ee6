import Glibc
import PowaCore

/// A real powa-web, started from the virtual environment of
/// `pg-env.sh install-powa-web` with a `powa-web.conf` of its own that points
/// at one test repository, listening on a free loopback port. `stop()` ends it.
public final class PowaWebProcess: @unchecked Sendable {
    public let release: PowaWebRelease
    public let port: Int
    private let process: TestProcess
    private let directory: TemporaryDirectory
    private let environment: String
    /// The name the repository goes by in powa-web.conf and at login.
    public static let serverName = "main"

    public var url: String { "http://127.0.0.1:\(port)/" }

    /// powa-web's own log (tornado writes it on stderr).
    public var log: String { process.standardError }

    /// Starts powa-web `release` on `repository`; throws when its virtual
    /// environment was not made or it does not listen within 60 s.
    public init(release: PowaWebRelease, repository: PowaRepositoryFixture) async throws {
        guard let environment = release.environment else {
            throw TestProcessError("no virtual environment for \(release) (run: scripts/pg-env.sh install-powa-web)")
        }
        self.release = release
        self.environment = environment
        let directory = try TemporaryDirectory(prefix: "powa-web")
        self.directory = directory
        do {
            (port, process) = try await Self.start(environment: environment, repository: repository, in: directory)
        } catch {
            directory.remove()
            throw error
        }
    }

    private static func start(
        environment: String, repository: PowaRepositoryFixture, in directory: TemporaryDirectory
    ) async throws -> (Int, TestProcess) {
        var lastLog = ""
        // A port found free may be taken before powa-web binds it: try another.
        for _ in 1...5 {
            let port = try freeLoopbackPort()
            // powa-web reads the file after its command line, so the address
            // and port go in the file too.
            let configuration = try directory.write(
                "powa-web.conf",
                """
                servers={'\(serverName)': {'host': '\(repository.cluster.host)', 'port': '\(repository.cluster.port)', 'database': '\(repository.database)'}}
                cookie_secret="powa-collector-tests-\(UInt64.random(in: 0...UInt64.max))"
                address="127.0.0.1"
                port=\(port)

                """)
            let process = try TestProcess(
                executable: environment + "/bin/python",
                arguments: [environment + "/bin/powa-web", "--config=\(configuration)"],
                outputIn: directory, name: "powa-web")
            if await waitUntilListening(process, port: port, timeout: 60) { return (port, process) }
            lastLog = process.standardError
            await process.stop(grace: 2)
            guard lastLog.contains("Address already in use") else { break }
        }
        throw TestProcessError("powa-web did not start:\n\(lastLog)")
    }

    /// Stops powa-web and removes its files.
    public func stop() async {
        await process.stop(grace: 5)
        directory.remove()
    }

    /// Drives powa-web as a browser does (`scripts/powa-web-session.py`):
    /// login as `user`, server list, the page of `srvid`, then each collector
    /// action powa-web offers. Returns what powa-web answered, one member per
    /// step.
    public func session(srvid: Int, user: String = TestEnvironment.superuser, dbname: String = "powa") async throws
        -> JSONValue
    {
        guard let script = TestEnvironment.script else { throw TestProcessError("POWA_TEST_PG_ENV is not set") }
        let session = String(script[..<(script.lastIndex(of: "/") ?? script.startIndex)]) + "/powa-web-session.py"
        // The test clusters trust loopback for this role: any password logs in.
        let passwordFile = try directory.write("password", "unused-with-trust")
        let result = try await TestProcess.run(
            environment + "/bin/python",
            [
                session, "--url", url, "--flavor", String(release.powa.major), "--srvid", String(srvid), "--user", user,
                "--password-file", passwordFile, "--server", Self.serverName, "--dbname", dbname,
            ],
            in: directory, name: "session", timeout: 120)
        guard case .exited(0)? = result.termination,
            let line = result.stdout.split(separator: "\n").last
        else {
            throw TestProcessError(
                "powa-web session failed (\(String(describing: result.termination))): \(result.stdout)\(result.stderr)\n"
                    + "powa-web log:\n\(log.split(separator: "\n").suffix(20).joined(separator: "\n"))")
        }
        do {
            return try StrictJSONParser.parse(Array(line.utf8))
        } catch {
            throw TestProcessError("powa-web session printed no JSON: \(line)")
        }
    }

    private static func waitUntilListening(_ process: TestProcess, port: Int, timeout: Double) async -> Bool {
        await eventually(timeout: timeout, interval: 0.1) {
            process.exitStatus() != nil || canConnect(port: port)
        } && process.exitStatus() == nil
    }

    /// A TCP socket given `127.0.0.1:port` to connect or bind; false when
    /// no socket can be made or `operation` fails.
    private static func onLoopback(port: Int, _ operation: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Bool
    {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                operation(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    private static func canConnect(port: Int) -> Bool {
        onLoopback(port: port) { connect($0, $1, $2) }
    }

    /// A loopback port that can be bound now, below Linux's ephemeral range
    /// (as `pg-env.sh` picks its clusters' ports) so that no client
    /// connection takes it meanwhile.
    static func freeLoopbackPort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20000..<32000)
            if onLoopback(port: port, { bind($0, $1, $2) }) { return port }
        }
        throw TestProcessError("no free loopback port")
    }
}

/// Runs `body` with powa-web `release` started on `repository`, stopped
/// afterwards whatever happens.
public func withPowaWeb<T>(
    _ release: PowaWebRelease, on repository: PowaRepositoryFixture, _ body: (PowaWebProcess) async throws -> T
) async throws -> T {
    let web = try await PowaWebProcess(release: release, repository: repository)
    do {
        let result = try await body(web)
        await web.stop()
        return result
    } catch {
        await web.stop()
        throw error
    }
}
