import Glibc
import PowaCore
import TestSupport
import Testing

/// Workers forked by the worker launcher are the supervisor's children like
/// spawned ones, and the launcher is an optimisation only: losing it, or
/// turning it off, changes nothing a user sees.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorLauncherTests {
    /// Registers `addresses`, starts a collector and waits until every
    /// server reports `running` and has a snapshot.
    static func collecting(
        _ repository: PowaRepositoryFixture, addresses: [Int], environment: [String] = [],
        _ body: (SupervisorProcess, NotifyClient, [Int]) async throws -> Void
    ) async throws {
        let ids = try addresses.map { try repository.registerServer(address: $0, frequency: 5) }
        try await withCollector(on: repository, environment: environment) { supervisor in
            let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
            let collecting = try await eventually(timeout: 20, interval: 0.25) {
                try await client.workersStatus()?.values.allSatisfy { $0 == WorkerStatusText.running } == true
                    && ids.allSatisfy { (try? repository.lastSnapshot($0)) ?? nil != nil }
            }
            try #require(collecting, "\(supervisor.logTail())")
            try await body(supervisor, client, ids)
        }
    }

    @Test func workersAreForkedByTheLauncherAndAdoptedByTheSupervisor() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try await Self.collecting(repository, addresses: [33, 34, 35]) { supervisor, _, _ in
                let launcher = try #require(supervisor.launcherPid(), "no launcher\n\(supervisor.logTail())")
                #expect(
                    ProcessTable.arguments(launcher).suffix(3) == [
                        "--parent-pid", String(supervisor.pid), "--launcher",
                    ])
                let workers = supervisor.workerPids()
                #expect(workers.count == 3)
                for worker in workers {
                    // Forked, yet it reads like an exec'd worker: same
                    // arguments, the supervisor as parent, its own nice.
                    #expect(ProcessTable.arguments(worker).suffix(2) == ["--parent-pid", String(supervisor.pid)])
                    #expect(ProcessTable.entry(worker)?.parent == supervisor.pid)
                    #expect(ProcessTable.entry(worker)?.nice == ProcessTable.entry(supervisor.pid).map { $0.nice + 5 })
                }
                #expect(ProcessTable.entry(launcher)?.nice == ProcessTable.entry(supervisor.pid)?.nice)
            }
        }
    }

    /// SIGKILL of the launcher: the running workers go on; a worker that
    /// dies afterwards is started with posix_spawn, and runs.
    @Test func losingTheLauncherChangesNothingForTheWorkers() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try await Self.collecting(repository, addresses: [36, 37, 38]) { supervisor, client, ids in
                let launcher = try #require(supervisor.launcherPid())
                let workers = supervisor.workerPids()
                kill(launcher, SIGKILL)
                let noticed = await eventually(timeout: 5, interval: 0.05) {
                    !supervisor.logLines(
                        thread: "-", containing: "the worker launcher (pid \(launcher)) ended (killed by signal 9)"
                    ).isEmpty
                }
                #expect(noticed, "\(supervisor.logTail())")
                #expect(!ProcessTable.isAlive(launcher), "the supervisor reaped it")
                #expect(supervisor.workerPids() == workers)

                let killedAt = try repository.now()
                let name = "127.0.0.36:\(repository.remote.port)"
                let victim = try #require(supervisor.workerPid(named: name))
                kill(victim, SIGKILL)
                var replacement: pid_t?
                let replaced = await eventually(timeout: 5, interval: 0.05) {
                    replacement = supervisor.workerPid(named: name)
                    return replacement != nil && replacement != victim
                }
                #expect(replaced, "\(supervisor.logTail())")
                // The dead launcher is not used again (a new one may start
                // once the relaunch interval has passed, on a slow run).
                #expect(supervisor.launcherPid() != launcher)
                for srvid in ids {
                    let snapshotted = try await eventually(timeout: 12, interval: 0.25) {
                        (try repository.lastSnapshot(srvid) ?? 0) > killedAt
                    }
                    #expect(snapshotted, "server \(srvid) took no snapshot after the kills\n\(supervisor.logTail())")
                }
                let running = try await eventually(timeout: 5) {
                    try await client.workersStatus()?.values.allSatisfy { $0 == WorkerStatusText.running } == true
                }
                #expect(running)
                #expect(supervisor.workerPids().filter { $0 != replacement } == workers.filter { $0 != victim })
            }
        }
    }

    @Test func theLauncherCanBeTurnedOff() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try await Self.collecting(
                repository, addresses: [27, 28], environment: ["POWA_COLLECTOR_NO_LAUNCHER=1"]
            ) { supervisor, _, _ in
                #expect(supervisor.launcherPid() == nil)
                #expect(supervisor.workerPids().count == 2)
                #expect(supervisor.logLines(thread: "-", containing: "POWA_COLLECTOR_NO_LAUNCHER is set").count == 1)
            }
        }
    }
}
