import Glibc
import PowaCore
import TestSupport
import Testing

/// The supervisor with hundreds of real workers, and under its own
/// starvation: slow is not dead, a start is not a storm, the repository
/// is admitted in order.
@Suite(.enabled(if: TestEnvironment.isAvailable), .serialized) struct SupervisorScaleTests {
    /// Servers that cost next to nothing: 127.0.0.`address` on a port
    /// where nothing listens, so each worker fails to connect at once and
    /// sits idle, heartbeating, as a real worker does.
    static func registerIdleServers(_ count: Int, in repository: PowaRepositoryFixture) throws -> [Int] {
        var ids: [Int] = []
        for index in 0..<count {
            let address = 2 + index % 39
            let port = 1 + index / 39
            ids.append(try repository.registerServer(address: address, port: port, frequency: 300))
        }
        return ids
    }

    /// Whether every worker has reported its first status (the supervisor
    /// logs each change at debug level; WORKERS_STATUS for hundreds of
    /// servers is longer than a NOTIFY payload).
    static func everyWorkerReported(_ supervisor: SupervisorProcess, _ count: Int) -> Bool {
        supervisor.logLines(containing: "status: \(WorkerStatusText.noRemoteConnection)").count >= count
            && supervisor.workerPids().count == count
    }

    static let killed = ["worker sent nothing for", "terminating it", "killing it"]

    static func kills(_ supervisor: SupervisorProcess) -> [String] {
        killed.flatMap { supervisor.logLines(containing: $0) }
    }

    /// 300 workers started together: paced, each given its start grace
    /// from its real start, none killed.
    @Test func hundredsOfWorkersStartingTogetherAreNotKilled() async throws {
        try await withCollectorRepository(powaMajor: 5) { repository in
            let ids = try Self.registerIdleServers(300, in: repository)
            try await withCollector(on: repository, debug: true) { supervisor in
                let reported = await eventually(timeout: 120, interval: 1) {
                    Self.everyWorkerReported(supervisor, ids.count)
                }
                #expect(reported, "\(supervisor.logTail())")
                #expect(supervisor.workerPids().count == ids.count)
                #expect(Self.kills(supervisor).isEmpty, "\(Self.kills(supervisor).prefix(5))")
            }
        }
    }

    /// The supervisor frozen longer than any worker's promise (SIGSTOP
    /// 80 s: idle workers promise 60 + 15 s), then starved 0.9 s of every
    /// second, while 200 workers keep writing: it blames itself, not
    /// them. Their heartbeats wait in the pipes meanwhile and are read
    /// before any verdict.
    @Test func aSupervisorStarvedOfCPUKillsNoWorker() async throws {
        try await withCollectorRepository(powaMajor: 5) { repository in
            let ids = try Self.registerIdleServers(200, in: repository)
            try await withCollector(on: repository, debug: true) { supervisor in
                let reported = await eventually(timeout: 90, interval: 1) {
                    Self.everyWorkerReported(supervisor, ids.count)
                }
                try #require(reported, "\(supervisor.logTail())")
                let pids = Set(supervisor.workerPids())

                supervisor.signal(SIGSTOP)
                let idlePromise =
                    Duration.fromSeconds(WorkerMessage.idleHeartbeatInterval)
                    + SupervisorTimings.standard.watchdogSilenceLimit
                try await Task.sleep(for: idlePromise + .seconds(5))
                supervisor.signal(SIGCONT)
                for _ in 0..<25 {
                    supervisor.signal(SIGSTOP)
                    try await Task.sleep(for: .milliseconds(900))
                    supervisor.signal(SIGCONT)
                    try await Task.sleep(for: .milliseconds(100))
                }
                // Past every deadline that the stops could have hidden.
                try await Task.sleep(for: .seconds(5))
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                #expect(
                    try await client.workersStatus(ids[0], timeout: 3) == [
                        String(ids[0]): WorkerStatusText.noRemoteConnection
                    ])
                #expect(supervisor.workerPids().count == ids.count)
                #expect(Set(supervisor.workerPids()) == pids, "no worker replaced")
                #expect(Self.kills(supervisor).isEmpty, "\(Self.kills(supervisor).prefix(5))")
                #expect(!supervisor.logLines(containing: "the supervisor itself did not run for").isEmpty)
            }
        }
    }

    /// SIGTERM with 300 workers, two CPU burners and a backlog of worker
    /// output (the supervisor was stopped while they wrote): acted on at
    /// once, every worker stopped, exit 0.
    @Test func sigtermIsActedOnPromptlyUnderLoad() async throws {
        try await withCollectorRepository(powaMajor: 5) { repository in
            let ids = try Self.registerIdleServers(300, in: repository)
            try await withCollector(on: repository, debug: true) { supervisor in
                let reported = await eventually(timeout: 120, interval: 1) {
                    Self.everyWorkerReported(supervisor, ids.count)
                }
                try #require(reported, "\(supervisor.logTail())")
                let burners = try (0..<2).map { index in
                    try TestProcess(
                        executable: "/bin/sh", arguments: ["-c", "while :; do :; done"],
                        outputIn: supervisor.directory, name: "burner\(index)")
                }
                defer { for burner in burners { burner.signal(SIGKILL) } }
                supervisor.signal(SIGSTOP)
                try await Task.sleep(for: .seconds(25))
                supervisor.signal(SIGTERM)
                supervisor.signal(SIGCONT)
                let started = Monotonic.now()
                let acted = await eventually(timeout: 10, interval: 0.05) {
                    supervisor.log.contains("stopping all workers and exiting")
                }
                let actedAfter = Monotonic.now() - started
                #expect(acted, "\(supervisor.logTail())")
                let exit = await supervisor.process.waitForExit(timeout: 15)
                #expect(exit == .exited(0), "\(supervisor.logTail())")
                print("SIGTERM acted on after \(actedAfter) s, exit after \(Monotonic.now() - started) s")
            }
        }
    }

    /// `max_concurrent_snapshots: 1`: while a slow snapshot holds the
    /// slot, the others wait in the order they asked and say so; the
    /// holder SIGKILLed mid-snapshot gives its slot to the first in line.
    @Test func slotsAreGrantedInOrderAndReleasedWhenTheHolderDies() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let slowID = try repository.registerServer(address: 20, frequency: 5)
            let slow = try CustomDatasource(
                fixture: repository, srvid: slowID, remote: repository.remote,
                remoteBody: "SELECT 1, 'x'::text FROM pg_sleep(60)")
            defer { slow.dropRemote(repository.remote) }
            let others = try [21, 22].map { try repository.registerServer(address: $0, frequency: 5) }
            let slowName = "127.0.0.20:\(repository.remote.port)"
            try await withCollector(on: repository, debug: true, extra: #""max_concurrent_snapshots": 1"#) {
                supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                var statuses: [String: String]?
                let bothWaiting = try await eventually(timeout: 40, interval: 0.5) {
                    statuses = try await client.workersStatus(timeout: 2)
                    return others.allSatisfy { statuses?[String($0)]?.contains("for a snapshot slot") == true }
                }
                try #require(bothWaiting, "\(String(describing: statuses))\n\(supervisor.logTail())")
                // One repository session at most is a worker's.
                for _ in 0..<5 {
                    let sessions = try repository.count(
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND application_name LIKE 'PoWA collector - repo%'
                        """)
                    #expect(sessions <= 1)
                    usleep(200_000)
                }
                // Who asked first among the waiting ones.
                let waitLines = supervisor.logLines(containing: "waiting for a snapshot slot")
                let names = [21, 22].map { "127.0.0.\($0):\(repository.remote.port)" }
                let lastRequest = names.map { name in waitLines.lastIndex { $0.contains(name + " ") } ?? .max }
                let firstWaiter = lastRequest[0] < lastRequest[1] ? names[0] : names[1]
                let grantsBefore = supervisor.logLines(containing: "snapshot slot granted").count
                // Read before the kill: the first waiter may commit as soon
                // as it is granted, and its next snapshot waits behind the
                // slow server's restarted worker, 60 s.
                let before = try others.map { try repository.lastSnapshot($0) }
                let holder = try #require(supervisor.workerPid(named: slowName))
                kill(holder, SIGKILL)
                let granted = await eventually(timeout: 10, interval: 0.1) {
                    supervisor.logLines(containing: "snapshot slot granted").count > grantsBefore
                }
                #expect(granted, "\(supervisor.logTail())")
                let grant = supervisor.logLines(containing: "snapshot slot granted")[grantsBefore]
                #expect(grant.contains(firstWaiter + " "), "\(grant), first waiter \(firstWaiter)")
                // Both get their snapshot.
                let collected = try await eventually(timeout: 30, interval: 0.5) {
                    try zip(others, before).allSatisfy { id, last in try repository.lastSnapshot(id) != last }
                }
                #expect(collected, "\(supervisor.logTail())")
            }
        }
    }
}
