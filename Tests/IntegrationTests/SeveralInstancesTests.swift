import Glibc
import PowaCore
import Testing
import TestSupport

/// Several collectors started with the same file on one repository: each
/// server is collected by exactly one of them, a dead or frozen one's
/// servers move to the others, and a frozen one never commits a snapshot
/// after it lost a server. Leases are short here (3 s, rounds every 1 s)
/// so that the scenarios take seconds.
@Suite(.enabled(if: TestEnvironment.isAvailable))
struct SeveralInstancesTests {
    static let lease = 3.0
    static let frequency = 5
    static let extra = #""coordination_lease": 3"#

    /// Starts `count` collectors on `repository`, each with the same file.
    static func startInstances(_ count: Int, on repository: PowaRepositoryFixture) async throws -> [SupervisorProcess] {
        var instances: [SupervisorProcess] = []
        for _ in 0..<count {
            let instance = try SupervisorProcess(configuration: SupervisorProcess.configuration(
                dsn: repository.dsn, debug: true, extra: extra))
            instances.append(instance)
            await instance.waitUntilCollecting()
        }
        return instances
    }

    /// Each instance's id in the repository, by supervisor pid.
    static func instanceIDs(_ repository: PowaRepositoryFixture) throws -> [pid_t: String] {
        var ids: [pid_t: String] = [:]
        for row in try repository.query("SELECT pid, id FROM powa_collector_coord.instances").rows {
            if let pid = row[0].flatMap({ pid_t($0) }), let id = row[1] { ids[pid] = id }
        }
        return ids
    }

    /// srvid → owner id, for rows with an owner and a live lease.
    static func owners(_ repository: PowaRepositoryFixture) throws -> [Int: String] {
        var owners: [Int: String] = [:]
        let rows = try repository.query("""
            SELECT srvid, owner FROM powa_collector_coord.ownership
            WHERE owner IS NOT NULL AND lease_until > clock_timestamp()
            """).rows
        for row in rows {
            if let srvid = row[0].flatMap({ Int($0) }), let owner = row[1] { owners[srvid] = owner }
        }
        return owners
    }

    /// Whether the servers are owned as rendezvous hashing over `instances`
    /// says, and each owner runs exactly the workers of its servers.
    static func settled(
        _ servers: [Int], over instances: [SupervisorProcess], _ repository: PowaRepositoryFixture
    ) throws -> Bool {
        let ids = try instanceIDs(repository)
        let live = instances.compactMap { ids[$0.pid] }
        guard live.count == instances.count else { return false }
        let owners = try owners(repository)
        for srvid in servers where owners[srvid] != RendezvousHash.winner(srvid: srvid, among: live) { return false }
        let workers = instances.reduce(0) { $0 + $1.workerPids().count }
        return workers == servers.count
    }

    /// Snapshots of each server closer together than half a frequency: two
    /// collectors took it.
    static func doubleSnapshots(_ servers: [Int], _ repository: PowaRepositoryFixture) throws -> [Int: [Double]] {
        var doubles: [Int: [Double]] = [:]
        for srvid in servers {
            let times = try repository.snapshotTimes(srvid: srvid)
            for (earlier, later) in zip(times, times.dropFirst()) where later - earlier < Double(frequency) / 2 {
                doubles[srvid, default: []].append(later - earlier)
            }
        }
        return doubles
    }

    static func committedSnapshots(_ instance: SupervisorProcess) -> Int {
        instance.logLines(containing: "Snapshot committed").count
    }

    static func logs(_ instances: [SupervisorProcess]) -> String {
        instances.enumerated().map { "--- instance \($0.offset) (pid \($0.element.pid))\n\($0.element.logTail(30))" }
            .joined(separator: "\n")
    }

    static func withInstances(
        _ count: Int, servers serverCount: Int,
        _ body: (PowaRepositoryFixture, [Int], inout [SupervisorProcess]) async throws -> Void
    ) async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let servers = try (0..<serverCount).map { try repository.registerServer(address: 2 + $0, frequency: frequency) }
            var instances = try await startInstances(count, on: repository)
            do {
                try await body(repository, servers, &instances)
            } catch {
                for instance in instances { await instance.stop() }
                throw error
            }
            for instance in instances { await instance.stop() }
        }
    }

    /// A role that may not create the coordination schema is told, in
    /// the log, what to grant to whom on which database, and collects
    /// nothing meanwhile (never without the fence).
    @Test func aRoleWithoutCreateOnTheDatabaseIsToldWhatToGrant() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            _ = try repository.registerServer(address: 2, frequency: Self.frequency)
            let role = "powa_no_create_\(getpid())"
            _ = try repository.query("CREATE ROLE \(role) LOGIN IN ROLE pg_read_all_data")
            defer { _ = try? repository.query("DROP ROLE \(role)") }
            let cluster = repository.cluster
            let dsn = "postgresql://\(role)@\(cluster.host):\(cluster.port)/\(repository.database)"
            let instance = try SupervisorProcess(configuration: SupervisorProcess.configuration(dsn: dsn, extra: Self.extra))
            let remedy = "GRANT CREATE ON DATABASE \(repository.database) TO \(role)"
            let told = await eventually(timeout: 20) { instance.log.contains(remedy) }
            let log = instance.log
            await instance.stop()
            #expect(told, "\(log)")
            #expect(log.contains("SQLSTATE 42501"), "\(log)")
            #expect(log.contains("collects nothing"), "\(log)")
            #expect(!log.contains("Snapshot committed"), "\(log)")
        }
    }

    @Test(arguments: [2, 3])
    func instancesSplitTheServersAndNoneIsSnapshottedTwice(count: Int) async throws {
        try await Self.withInstances(count, servers: 6) { repository, servers, instances in
            let split = try await eventually(timeout: 30, interval: 0.25) { try Self.settled(servers, over: instances, repository) }
            try #require(split, "\(Self.logs(instances))")
            let everyone = Dictionary(uniqueKeysWithValues: servers.map { (String($0), WorkerStatusText.running) })
            // Every instance's answer lists every server with its real
            // status: powa-web takes whichever comes first.
            let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
            let full = try await eventually(timeout: 15, interval: 0.5) {
                let channel = NotifyClient.randomChannel()
                try client.listen(channel)
                try client.send("WORKERS_STATUS \(channel)")
                let answers = try await client.drain(channel: channel, timeout: 1).map(NotifyClient.decodeStatus)
                return answers.count == count && answers.allSatisfy { $0 == everyone }
            }
            #expect(full, "\(Self.logs(instances))")
            // Single-server requests, answered by the owner and the others alike.
            for srvid in servers {
                #expect(try await client.workersStatus(srvid) == [String(srvid): WorkerStatusText.running])
            }
            // FORCE_SNAPSHOT acts once: only the owner answers it.
            let channel = NotifyClient.randomChannel()
            try client.listen(channel)
            try client.send("FORCE_SNAPSHOT \(channel) \(servers[0])")
            let answers = try await client.drain(channel: channel, timeout: 1.5)
            #expect(answers.count == 1, "\(answers)")
            // Each server keeps being snapshotted, never by two.
            let before = try servers.map { try repository.snapshotTimes(srvid: $0).count }
            try await Task.sleep(nanoseconds: UInt64(Self.frequency * 2 + 1) * 1_000_000_000)
            let after = try servers.map { try repository.snapshotTimes(srvid: $0).count }
            #expect(zip(before, after).allSatisfy { $1 > $0 }, "every server still collected: \(before) → \(after)")
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
            #expect(try Self.settled(servers, over: instances, repository))
        }
    }

    /// Failover bound for a killed instance: its session ends with it, so
    /// the next round of another (a third of the lease) claims its servers,
    /// then a worker starts and snapshots when the server is due.
    @Test func aKilledInstancesServersAreCollectedByTheOther() async throws {
        try await Self.withInstances(2, servers: 4) { repository, servers, instances in
            let split = try await eventually(timeout: 30, interval: 0.25) { try Self.settled(servers, over: instances, repository) }
            try #require(split, "\(Self.logs(instances))")
            let victim = instances[0]
            let ids = try Self.instanceIDs(repository)
            let victimsServers = try Self.owners(repository).filter { $0.value == ids[victim.pid] }.map(\.key)
            let killedAt = try repository.now()
            victim.signal(SIGKILL)
            _ = await eventually(timeout: 10) { victim.process.exitStatus() != nil }
            instances.removeFirst()
            await victim.stop()
            let survivor = instances[0]
            // lease/3 + start + one frequency, with room for a slow machine.
            let bound = Self.lease / 3 + Double(Self.frequency) + 10
            let collected = try await eventually(timeout: bound, interval: 0.25) {
                try victimsServers.allSatisfy { (try repository.lastSnapshot($0) ?? 0) > killedAt }
                    && Self.settled(servers, over: [survivor], repository)
            }
            #expect(collected, "servers \(victimsServers) not collected within \(bound) s\n\(Self.logs([survivor]))")
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty)
        }
    }

    /// A frozen supervisor keeps its session: only the lease ends its
    /// ownership, and the fence keeps its workers (still running, or frozen
    /// too, mid-snapshot perhaps) from committing from then on.
    @Test(arguments: [false, true])
    func aFrozenInstanceCommitsNothingAfterLosingItsServers(workersToo: Bool) async throws {
        try await Self.withInstances(2, servers: 4) { repository, servers, instances in
            let split = try await eventually(timeout: 30, interval: 0.25) { try Self.settled(servers, over: instances, repository) }
            try #require(split, "\(Self.logs(instances))")
            let frozen = instances[0]
            let other = instances[1]
            let ids = try Self.instanceIDs(repository)
            let otherID = try #require(ids[other.pid])
            let frozenWorkers = workersToo ? frozen.workerPids() + [frozen.launcherPid()].compactMap { $0 } : []
            frozen.signal(SIGSTOP)
            for pid in frozenWorkers { kill(pid, SIGSTOP) }
            let takenOver = try await eventually(timeout: Self.lease * 3 + 10, interval: 0.1) {
                let owners = try Self.owners(repository)
                return servers.allSatisfy { owners[$0] == otherID }
            }
            guard takenOver else {
                for pid in frozenWorkers { kill(pid, SIGCONT) }
                frozen.signal(SIGCONT)
                Issue.record("the other instance did not take over\n\(Self.logs(instances))")
                return
            }
            try await Task.sleep(nanoseconds: 500_000_000)
            let committedBeforeLoss = Self.committedSnapshots(frozen)
            // Its workers still run and try (frequency 5 s) while it is frozen.
            try await Task.sleep(nanoseconds: UInt64(Self.frequency + 2) * 1_000_000_000)
            for pid in frozenWorkers { kill(pid, SIGCONT) }
            frozen.signal(SIGCONT)
            let stopped = await eventually(timeout: 15, interval: 0.25) { frozen.workerPids().isEmpty }
            #expect(stopped, "the resumed instance stops the workers of servers it lost\n\(frozen.logTail())")
            try await Task.sleep(nanoseconds: 2_000_000_000)
            #expect(Self.committedSnapshots(frozen) == committedBeforeLoss, "\(frozen.logTail(60))")
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
            // Once back, it takes its share again.
            let rebalanced = try await eventually(timeout: 40, interval: 0.25) {
                try Self.settled(servers, over: instances, repository)
            }
            #expect(rebalanced, "\(Self.logs(instances))")
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
        }
    }

    /// A third instance joining a running pair gets its share, handed over
    /// a server per round per instance, never in one burst.
    @Test func aJoiningInstanceTakesItsShareGradually() async throws {
        try await Self.withInstances(2, servers: 6) { repository, servers, instances in
            let split = try await eventually(timeout: 30, interval: 0.25) { try Self.settled(servers, over: instances, repository) }
            try #require(split, "\(Self.logs(instances))")
            let joining = try await Self.startInstances(1, on: repository)
            instances += joining
            let shared = try await eventually(timeout: 40, interval: 0.25) { try Self.settled(servers, over: instances, repository) }
            #expect(shared, "\(Self.logs(instances))")
            for instance in instances.prefix(2) {
                let seconds = instance.logLines(thread: "-", containing: "handing it over").map { String($0.prefix(19)) }
                #expect(Set(seconds).count == seconds.count, "at most one hand-over per round: \(seconds)")
            }
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
        }
    }

    @Test func instancesCarryOnAfterTheRepositoryRestarts() async throws {
        guard TestEnvironment.script != nil else { return }
        let dedicated = try #require(try await DedicatedCluster(kind: "powa4-repo", prefix: "repo"))
        do {
            let setup = try PowaRepositoryFixture(cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
            let servers = try [2, 3, 4].map { try setup.registerServer(address: $0, frequency: Self.frequency) }
            setup.close()
            let instances = try await Self.startInstances(2, on: setup)
            do {
                var repository = try PowaRepositoryFixture(cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
                let split = try await eventually(timeout: 30, interval: 0.25) { try Self.settled(servers, over: instances, repository) }
                try #require(split, "\(Self.logs(instances))")
                repository.close()
                try await dedicated.control("stop")
                try await Task.sleep(nanoseconds: 2_000_000_000)
                try await dedicated.control("start")
                repository = try PowaRepositoryFixture(cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
                defer { repository.close() }
                let restartedAt = try repository.now()
                let resumed = try await eventually(timeout: 40, interval: 0.25) {
                    try servers.allSatisfy { (try repository.lastSnapshot($0) ?? 0) > restartedAt }
                        && Self.settled(servers, over: instances, repository)
                }
                #expect(resumed, "\(Self.logs(instances))")
                #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
            } catch {
                for instance in instances { await instance.stop() }
                throw error
            }
            for instance in instances { await instance.stop() }
        } catch {
            await dedicated.remove()
            throw error
        }
        await dedicated.remove()
    }
}
