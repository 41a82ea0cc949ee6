import Glibc
import PowaCore
import TestSupport
import Testing

/// Losing the repository: the workers keep collecting, the supervisor
/// reconnects, listens again and says so once in each direction.
@Suite(.enabled(if: TestEnvironment.isAvailable && TestEnvironment.script != nil))
struct SupervisorRepositoryTests {
    @Test func answersAndSnapshotsResumeAfterTheRepositoryRestarts() async throws {
        let dedicated = try #require(try await DedicatedCluster(kind: "powa4-repo", prefix: "repo"))
        do {
            try await Self.restartScenario(dedicated)
        } catch {
            await dedicated.remove()
            throw error
        }
        await dedicated.remove()
    }

    static func restartScenario(_ dedicated: DedicatedCluster) async throws {
        let cluster = dedicated.cluster
        let setup = try PowaRepositoryFixture(cluster: cluster, remote: TestEnvironment.powa4Remote, database: "powa")
        let ids = try [2, 3].map { try setup.registerServer(address: $0, frequency: 5) }
        setup.close()

        try await withCollector(on: setup) { supervisor in
            var repository = try PowaRepositoryFixture(
                cluster: cluster, remote: TestEnvironment.powa4Remote, database: "powa")
            var client = try NotifyClient(cluster: cluster, database: "powa")
            let everyoneRunning = Dictionary(uniqueKeysWithValues: ids.map { (String($0), WorkerStatusText.running) })
            let collecting = try await eventually(timeout: 20, interval: 0.25) {
                try await client.workersStatus() == everyoneRunning
                    && ids.allSatisfy { (try? repository.lastSnapshot($0)) ?? nil != nil }
            }
            try #require(collecting, "\(supervisor.logTail())")
            let workers = supervisor.workerPids()

            // An outage long enough for several failed reconnections.
            repository.close()
            try await dedicated.control("stop")
            try await Task.sleep(nanoseconds: 4_000_000_000)
            #expect(supervisor.process.exitStatus() == nil, "the supervisor survives the outage")
            #expect(supervisor.workerPids() == workers, "workers are not restarted for it")
            try await dedicated.control("start")

            repository = try PowaRepositoryFixture(
                cluster: cluster, remote: TestEnvironment.powa4Remote, database: "powa")
            defer { repository.close() }
            let restartedAt = try repository.now()
            client = try NotifyClient(cluster: cluster, database: "powa")
            var last: [String: String]?
            let answering = try await eventually(timeout: 30, interval: 0.25) {
                last = try await client.workersStatus(timeout: 1)
                return last == everyoneRunning
            }
            #expect(answering, "last answer: \(String(describing: last))\n\(supervisor.logTail())")
            for srvid in ids {
                let snapshotted = try await eventually(timeout: 15, interval: 0.25) {
                    (try repository.lastSnapshot(srvid) ?? 0) > restartedAt
                }
                #expect(snapshotted, "server \(srvid) took no snapshot after the restart\n\(supervisor.logTail())")
            }
            #expect(supervisor.workerPids() == workers)
            #expect(
                supervisor.logLines(thread: "-", containing: "lost the connection to the repository").count == 1,
                "\(supervisor.logTail())")
            #expect(supervisor.logLines(thread: "-", containing: "connection to the repository is back").count == 1)
            #expect(
                supervisor.logLines(thread: "-", containing: "cannot connect to the repository").isEmpty,
                "failed attempts are not logged at info level")
        }
    }
}
