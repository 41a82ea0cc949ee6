import Glibc
import ProcessSupport

/// A real `powa-collector` started by a test, with its configuration file
/// and its log (stderr) in a temporary directory.
public final class SupervisorProcess: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let configurationPath: String
    public let process: TestProcess

    public var pid: pid_t { process.pid }

    /// Writes `configuration` (JSON text) and starts the collector on it,
    /// `environment` (`NAME=value` items) added to the test's.
    public init(configuration: String, executable: String = BuiltProducts.collector, environment: [String] = []) throws
    {
        directory = try TemporaryDirectory(prefix: "powa-collector")
        configurationPath = try directory.write("powa-collector.conf", configuration)
        process = try TestProcess(
            executable: executable, arguments: ["--config", configurationPath], environment: environment,
            outputIn: directory, name: "collector")
    }

    /// The configuration of the reference's format for this repository DSN.
    public static func configuration(
        dsn: String, debug: Bool = false, useServerAlias: Bool = false, extra: String = ""
    ) -> String {
        let quotedDSN = dsn.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        return """
            {
                "repository": {"dsn": "\(quotedDSN)"},
                "debug": \(debug),
                "use_server_alias": \(useServerAlias)\(extra.isEmpty ? "" : ",\n    " + extra)
            }
            """
    }

    /// Replaces the configuration file (then send SIGHUP or RELOAD).
    public func rewriteConfiguration(_ configuration: String) throws {
        try directory.write("powa-collector.conf", configuration)
    }

    /// Everything it logged so far (its workers share its stderr).
    public var log: String { process.standardError }

    /// Log lines whose thread column (after the timestamp) is `thread`
    /// (`-` for the supervisor itself, a worker's name otherwise) and whose
    /// text contains `text`.
    public func logLines(thread: String? = nil, containing text: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { line in
            guard line.contains(text) else { return false }
            guard let thread else { return true }
            // "YYYY-MM-DD HH:MM:SS,mmm " is 24 characters.
            return line.count > 24 && line.dropFirst(24).hasPrefix(thread + " ")
        }
    }

    /// Its live worker processes (its worker launcher excluded).
    public func workerPids() -> [pid_t] {
        ourChildren().filter { !Self.isLauncher($0) }
    }

    /// Its worker launcher, when one runs.
    public func launcherPid() -> pid_t? {
        ourChildren().first(where: Self.isLauncher)
    }

    private func ourChildren() -> [pid_t] {
        ProcessTable.children(of: pid).filter { ProcessTable.entry($0)?.name.hasPrefix("powa-collector") == true }
    }

    private static func isLauncher(_ pid: pid_t) -> Bool {
        ProcessTable.arguments(pid).contains("--launcher")
    }

    /// The pid of the live worker named `name`: the last "worker started
    /// (pid N)" the supervisor logged for it, when that process is alive.
    public func workerPid(named name: String) -> pid_t? {
        guard let line = logLines(thread: name, containing: "worker started (pid ").last,
            let start = line.firstRange(of: "(pid ")?.upperBound,
            let end = line[start...].firstIndex(of: ")"),
            let pid = pid_t(line[start..<end])
        else { return nil }
        return workerPids().contains(pid) ? pid : nil
    }

    public func signal(_ signo: Int32) { process.signal(signo) }

    /// Waits until it has connected, listens and read the server list (it
    /// logs "N servers to collect"), or has exited. Requests sent before
    /// that would go unheard. Returns whether it got there.
    @discardableResult
    public func waitUntilCollecting(timeout: Double = 20) async -> Bool {
        await eventually(timeout: timeout, interval: 0.02) {
            log.contains(" to collect ") || process.exitStatus() != nil
        } && process.exitStatus() == nil
    }

    /// Stops it (SIGTERM, then SIGKILL), kills any worker left and removes
    /// its files. For test clean-up: safe to call whatever state it is in.
    public func stop() async {
        let workers = ourChildren()
        await process.stop()
        for worker in workers where ProcessTable.isAlive(worker) {
            if ProcessTable.entry(worker)?.name.hasPrefix("powa-collector") == true { kill(worker, SIGKILL) }
        }
        directory.remove()
    }
}

extension SupervisorProcess {
    /// The last `count` lines of the log, to explain a failure.
    public func logTail(_ count: Int = 40) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
    }
}

/// Runs `body` with a new repository database of PoWA `powaMajor` (4: 4.1,
/// 5: 5.0), dropped afterwards whatever happens.
public func withCollectorRepository<T>(
    powaMajor: Int, _ body: (PowaRepositoryFixture) async throws -> T
) async throws -> T {
    try await withCollectorRepository(release: PowaRelease(major: powaMajor), body)
}

/// Runs `body` with a new repository database of `release`, dropped
/// afterwards whatever happens.
public func withCollectorRepository<T>(
    release: PowaRelease, _ body: (PowaRepositoryFixture) async throws -> T
) async throws -> T {
    let repository = try PowaRepositoryFixture(release: release)
    do {
        let result = try await body(repository)
        repository.drop()
        return result
    } catch {
        repository.drop()
        throw error
    }
}

/// Runs `body` with a collector started on `repository`, stopped (and its
/// workers killed if need be) afterwards whatever happens.
public func withCollector<T>(
    on repository: PowaRepositoryFixture, dsn: String? = nil, debug: Bool = false, useServerAlias: Bool = false,
    extra: String = "", environment: [String] = [], _ body: (SupervisorProcess) async throws -> T
) async throws -> T {
    let supervisor = try SupervisorProcess(
        configuration: SupervisorProcess.configuration(
            dsn: dsn ?? repository.dsn, debug: debug, useServerAlias: useServerAlias, extra: extra),
        environment: environment)
    do {
        await supervisor.waitUntilCollecting()
        let result = try await body(supervisor)
        await supervisor.stop()
        return result
    } catch {
        await supervisor.stop()
        throw error
    }
}
