import Glibc
import PowaCore
import TestSupport
import Testing

/// Workers forked by the launcher, stopped (SIGTERM, the supervisor's own
/// stop) or killed (SIGKILL) at random moments, most of them while libpq is
/// connecting with Kerberos and TLS at work, never abort: no SIGABRT or
/// SIGSEGV exit, no assertion on stderr. A worker stopped in the middle of
/// a connect once aborted in `k5_mutex_lock` (error 22): its exit ran
/// libkrb5's destructors, which destroy its mutexes, while the collector
/// thread was still inside libkrb5.
@Suite(.enabled(if: TestEnvironment.isAvailable && TestEnvironment.script != nil))
struct LauncherForkSafetyTests {
    static let servers = 4
    static let rounds = 3
    /// Seconds of random stops and kills in each collector's life.
    static let faultWindow = 8.0
    /// Each server is a list of hosts that libpq, told to want a read-only
    /// session, tries in turn: the TLS remote, then this many times a
    /// greeter that reports a read-write session at once. A connect then
    /// lasts seconds, most of it in libpq's own Kerberos and TLS work.
    static let greeterRepeats = 200
    static let greeterAddress = "127.0.0.50"

    @Test(.timeLimit(.minutes(5)))
    func workersStoppedOrKilledAtRandomWhileConnectingNeverAbort() async throws {
        guard let remote = try await DedicatedCluster(kind: "powa4-remote", prefix: "forksafety") else { return }
        let load = try LibpqSecurityLoad()
        defer { load.remove() }
        do {
            let tls = try await load.enableTLS(on: remote.cluster)
            try #require(tls, "TLS could not be turned on in the remote")
            try await withCollectorRepository(powaMajor: 4) { repository in
                try await stress(repository: repository, remote: remote.cluster, load: load)
            }
        } catch {
            await remote.remove()
            throw error
        }
        await remote.remove()
    }

    private func stress(repository: PowaRepositoryFixture, remote: TestCluster, load: LibpqSecurityLoad) async throws {
        let greeter = try ReadWriteGreeter(address: Self.greeterAddress, port: remote.port)
        defer { greeter.close() }
        for index in 0..<Self.servers {
            let host = (["127.0.0.\(index + 2)"] + Array(repeating: Self.greeterAddress, count: Self.greeterRepeats))
                .joined(separator: ",")
            try repository.registerServer(host: host, port: remote.port, alias: "fork\(index)", frequency: 5)
        }
        // The repository must accept us whatever the environment asks of
        // the remotes' sessions.
        let dsn = repository.dsn + "?target_session_attrs=any"
        let environment = load.environment + ["PGTARGETSESSIONATTRS=read-only"]
        var stops = 0
        var kills = 0
        var workerStops = 0
        for round in 0..<Self.rounds {
            let supervisor = try SupervisorProcess(
                configuration: SupervisorProcess.configuration(dsn: dsn, useServerAlias: true),
                environment: environment)
            do {
                try #require(await supervisor.waitUntilCollecting(timeout: 60), "\(supervisor.logTail())")
                let forked = await eventually(timeout: 20, interval: 0.1) {
                    supervisor.launcherPid() != nil && supervisor.workerPids().count == Self.servers
                }
                try #require(forked, "workers not forked by the launcher\n\(supervisor.logTail())")
                let end = Monotonic.now() + Self.faultWindow
                while Monotonic.now() < end {
                    try await Task.sleep(nanoseconds: UInt64.random(in: 100_000_000...900_000_000))
                    guard let victim = supervisor.workerPids().randomElement() else { continue }
                    // Two stops for one kill, at random moments.
                    if (stops + kills) % 3 != 2 {
                        kill(victim, SIGTERM)
                        stops += 1
                    } else {
                        kill(victim, SIGKILL)
                        kills += 1
                    }
                }
                // The collector's own stop: every worker at once, wherever
                // it is, most of them inside a connect.
                supervisor.signal(SIGTERM)
                let stopped = await supervisor.process.waitForExit(timeout: 30)
                #expect(stopped == .exited(0), "round \(round): the collector ended \(String(describing: stopped))")
                let log = supervisor.log
                for evidence in ["Assertion", "k5_mutex", "killed by signal 6", "killed by signal 11"] {
                    let lines = log.split(separator: "\n").filter { $0.contains(evidence) }
                    #expect(lines.isEmpty, "round \(round): \(evidence):\n\(lines.prefix(5).joined(separator: "\n"))")
                }
                workerStops += supervisor.logLines(containing: "Stopping worker (").count
            } catch {
                await supervisor.stop()
                throw error
            }
            await supervisor.stop()
        }
        // The stop path ran (a worker in its restart delay has nothing to stop).
        #expect(workerStops > 0 && kills > 0)
        print(
            "fork safety: \(Self.rounds) collector stops, \(stops) worker SIGTERMs, \(kills) worker SIGKILLs, \(workerStops) worker stops"
        )
    }
}
