import Glibc
import PowaCore
import TestSupport
import Testing

/// No worker outlives the supervisor, whether it is stopped politely or
/// killed.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorShutdownTests {
    /// Starts a collector on three servers and waits until they all run.
    static func collecting(
        _ repository: PowaRepositoryFixture, addresses: [Int], _ body: (SupervisorProcess, [pid_t]) async throws -> Void
    ) async throws {
        for address in addresses { try repository.registerServer(address: address, frequency: 5) }
        try await withCollector(on: repository) { supervisor in
            let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
            let running = try await eventually(timeout: 20) {
                let statuses = try await client.workersStatus()
                return statuses?.count == addresses.count
                    && statuses?.values.allSatisfy { $0 == WorkerStatusText.running } == true
            }
            try #require(running, "\(supervisor.logTail())")
            let workers = supervisor.workerPids()
            try #require(workers.count == addresses.count)
            try await body(supervisor, workers)
        }
    }

    /// Sessions the collector still has open on the repository database.
    static func collectorSessions(_ repository: PowaRepositoryFixture) throws -> Int {
        let row = try repository.admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND application_name LIKE 'PoWA collector%'"
        ).first
        return Int(row?[0] ?? "") ?? -1
    }

    @Test func killingTheSupervisorLeavesNoWorker() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try await Self.collecting(repository, addresses: [14, 15, 16]) { supervisor, workers in
                let launcher = try #require(supervisor.launcherPid())
                supervisor.signal(SIGKILL)
                let all = workers + [launcher]
                let gone = await eventually(timeout: 5, interval: 0.05) { all.allSatisfy { !ProcessTable.isAlive($0) } }
                #expect(gone, "workers or launcher still alive 5 s after SIGKILL: \(all.filter(ProcessTable.isAlive))")
            }
        }
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aStopSignalStopsEveryWorkerAndExitsZero(signal: Int32) async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let first = signal == SIGTERM ? 17 : 20
            try await Self.collecting(repository, addresses: [first, first + 1, first + 2]) { supervisor, workers in
                let launcher = try #require(supervisor.launcherPid())
                supervisor.signal(signal)
                let status = await supervisor.process.waitForExit(timeout: 12)
                #expect(status == .exited(0), "\(supervisor.logTail())")
                #expect(workers.allSatisfy { !ProcessTable.isAlive($0) })
                let launcherGone = await eventually(timeout: 5, interval: 0.05) { !ProcessTable.isAlive(launcher) }
                #expect(launcherGone)
                #expect(
                    supervisor.logLines(containing: "Stopping worker (asked by the supervisor)").count == workers.count)
                #expect(supervisor.logLines(thread: "-", containing: "all workers stopped").count == 1)
                #expect(supervisor.logLines(containing: "killing it").isEmpty, "every worker stopped in time")
                // Each worker closed its sessions: nothing is left open on
                // the repository (an open transaction would hold locks).
                let closed = try await eventually(timeout: 5) { try Self.collectorSessions(repository) == 0 }
                #expect(closed)
            }
        }
    }
}
