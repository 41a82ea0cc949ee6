import Glibc
import PowaCore
import TestSupport
import Testing

/// SIGHUP and `RELOAD` re-read the configuration file and `powa_servers`,
/// touching only the workers whose servers changed.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorReloadTests {
    enum Trigger: String, CaseIterable { case notify, sighup }

    @Test(arguments: Trigger.allCases)
    func aReloadStartsStopsAndChangesExactlyTheServersThatChanged(trigger: Trigger) async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let base = trigger == .notify ? 23 : 27
            let port = repository.remote.port
            let (kept, removed, changed) = (
                try repository.registerServer(address: base, frequency: 60),
                try repository.registerServer(address: base + 1, frequency: 60),
                try repository.registerServer(address: base + 2, frequency: 60)
            )
            let name = { (address: Int) in "127.0.0.\(address):\(port)" }
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let running = try await eventually(timeout: 20) {
                    try await client.workersStatus() == [
                        String(kept): "running", String(removed): "running", String(changed): "running",
                    ]
                }
                try #require(running, "\(supervisor.logTail())")
                let before = (0...2).map { supervisor.workerPid(named: name(base + $0)) }

                let added = try repository.registerServer(address: base + 3, frequency: 60)
                try repository.admin.execute("DELETE FROM powa_servers WHERE id = $1", [String(removed)])
                try repository.admin.execute("UPDATE powa_servers SET frequency = 120 WHERE id = $1", [String(changed)])
                switch trigger {
                case .notify: #expect(try await client.request("RELOAD") == "RELOAD OK OK")
                case .sighup: supervisor.signal(SIGHUP)
                }

                var statuses: [String: String]?
                let reloaded = try await eventually(timeout: 20) {
                    statuses = try await client.workersStatus()
                    return statuses == [String(kept): "running", String(changed): "running", String(added): "running"]
                }
                #expect(reloaded, "\(String(describing: statuses))\n\(supervisor.logTail())")
                #expect(supervisor.workerPid(named: name(base)) == before[0], "an unchanged server keeps its worker")
                #expect(supervisor.workerPid(named: name(base + 2)) == before[2], "a changed server keeps its worker")
                #expect(supervisor.workerPid(named: name(base + 3)) != nil)
                #expect(before[1].map(ProcessTable.isAlive) == false, "the removed server's worker is gone")
                #expect(supervisor.workerPids().count == 3)
                // Only the changed server's worker was handed new parameters.
                #expect(supervisor.logLines(thread: name(base + 2), containing: "Reloading configuration").count == 1)
                #expect(supervisor.logLines(thread: name(base), containing: "Reloading configuration").isEmpty)
                #expect(supervisor.logLines(thread: name(base + 1), containing: "server \(removed) removed").count == 1)
                #expect(supervisor.logLines(thread: "-", containing: "reload done").count == 1)
            }
        }
    }

    /// SIGHUP reads the file again: a broken file changes nothing, a valid
    /// one is applied to the running workers without restarting them.
    @Test(arguments: PowaRelease.powa5)
    func sighupRereadsTheConfigurationFile(release: PowaRelease) async throws {
        try await withCollectorRepository(release: release) { repository in
            let first = try repository.registerServer(address: 31, alias: "alpha", frequency: 60)
            let second = try repository.registerServer(address: 32, alias: "beta", frequency: 60)
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let everyoneRunning = [String(first): "running", String(second): "running"]
                let running = try await eventually(timeout: 20) { try await client.workersStatus() == everyoneRunning }
                try #require(running, "\(supervisor.logTail())")
                let pids = supervisor.workerPids()

                try supervisor.rewriteConfiguration(#"{"repository": {"dsn": "postgresql://x"}, "debug": yes}"#)
                supervisor.signal(SIGHUP)
                let refused = await eventually(timeout: 10) {
                    !supervisor.logLines(thread: "-", containing: "reload failed: invalid JSON in configuration file")
                        .isEmpty
                }
                #expect(refused, "\(supervisor.logTail())")
                #expect(try await client.workersStatus() == everyoneRunning)

                try supervisor.rewriteConfiguration(
                    SupervisorProcess.configuration(dsn: repository.dsn, useServerAlias: true))
                supervisor.signal(SIGHUP)
                let renamed = await eventually(timeout: 10) {
                    ["alpha", "beta"].allSatisfy {
                        !supervisor.logLines(
                            thread: $0, containing: "configuration changed, asking the worker to reload"
                        ).isEmpty
                    }
                }
                #expect(renamed, "\(supervisor.logTail())")
                #expect(supervisor.workerPids() == pids, "the same processes, renamed")
                #expect(try await client.workersStatus() == everyoneRunning)
            }
        }
    }
}
