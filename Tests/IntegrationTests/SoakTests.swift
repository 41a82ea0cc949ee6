import Glibc
import PostgresClient
import PowaCore
import TestSupport
import Testing

/// A short fault soak (the long one is `scripts/soak`): ten servers at a
/// 5 s frequency while the worker launcher and workers are SIGKILLed (one
/// during its snapshot when it can be caught), a remote is stopped and
/// started, and hostile payloads
/// arrive on `powa_collector`. Whatever happened, every committed snapshot
/// must be whole, no snapshot lost but those the faults interrupted, every
/// server collecting again, no process left behind, the supervisor's
/// descriptors as before, and every status request answered. The same with
/// two instances sharing a repository: one frozen, one killed, the
/// repository restarted.
@Suite(.enabled(if: TestEnvironment.isAvailable && TestEnvironment.script != nil))
struct SoakTests {
    static let frequency = 5.0

    /// Faults and the servers they hit, in repository time.
    struct Fault {
        var what: String
        var start: Double
        var end: Double
        var servers: Set<Int>
    }

    /// Datasources with rows in every snapshot of a PoWA 4 server.
    /// (table, the timestamp of a row).
    static let wholeSnapshotTables = [
        ("powa_stat_bgwriter_history_current", "(record).ts"), ("powa_statements_history_current_db", "(record).ts"),
        ("powa_statements_history_current", "(record).ts"), ("powa_kcache_metrics_current_db", "(metrics).ts"),
    ]

    static let hostilePayloads = [
        "", "   ", "WORKERS_STATUS", "WORKERS_STATUS -", "workers_status soak_lower",
        "WORKERS_STATUS soak_x 99999999999999999999999", "WORKERS_STATUS \"; DROP TABLE powa_servers; --",
        "WORKERS_STATUS soak'quote\\slash", "WORKERS_STATUS " + String(repeating: "c", count: 200),
        "WORKERS_STATUS " + String(repeating: "é", count: 3000),
        "WORKERS_STATUS soak_x " + String(repeating: "1 ", count: 3000),
        "FORCE_SNAPSHOT soak_x abc", "FORCE_SNAPSHOT soak_x -5", "FORCE_SNAPSHOT - 1",
        "REFRESH_DB_CAT soak_x 1 2 db1 db2", "REFRESH_DB_CAT soak_x 1 -1", "NOPE soak_x",
        "\t\tWORKERS_STATUS\tsoak_tab", String(repeating: " ", count: 7990), String(repeating: "x", count: 7999),
    ]

    @Test(.timeLimit(.minutes(3)))
    func tenServersSurviveKillsRemoteRestartsAndHostileNotifies() async throws {
        guard let dedicated = try await DedicatedCluster(kind: "powa4-remote", prefix: "soak") else { return }
        do {
            try await withCollectorRepository(powaMajor: 4) { repository in
                try await soak(repository: repository, dedicated: dedicated)
            }
        } catch {
            await dedicated.remove()
            throw error
        }
        await dedicated.remove()
    }

    private func soak(repository: PowaRepositoryFixture, dedicated: DedicatedCluster) async throws {
        let frequency = Self.frequency
        // Six servers on the shared remote, four on the one this test stops.
        var servers: [String: Int] = [:]  // "host:port" → srvid
        for address in 21...26 {
            servers["127.0.0.\(address):\(repository.remote.port)"] = try repository.registerServer(
                address: address, frequency: Int(frequency))
        }
        var stoppable: Set<Int> = []
        for address in 1...4 {
            let srvid = try repository.registerServer(
                address: address, port: dedicated.cluster.port, frequency: Int(frequency))
            servers["127.0.0.\(address):\(dedicated.cluster.port)"] = srvid
            stoppable.insert(srvid)
        }
        let all = Set(servers.values)
        // Every snapshot stays in the *_current tables, where it is checked.
        try repository.admin.execute("UPDATE powa_servers SET powa_coalesce = 1000000 WHERE id > 0")
        let initialSequence = try sequences(repository)

        try await withCollector(on: repository) { supervisor in
            let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
            var sent = 0
            var answered = 0
            func askStatus() async throws -> [String: String]? {
                sent += 1
                let status = try await client.workersStatus()
                if status != nil { answered += 1 }
                return status
            }

            // Warm-up: every worker running, one snapshot of every server.
            let warm = try await eventually(timeout: 4 * frequency + 20, interval: 0.5) {
                let status = try await client.workersStatus()
                let seq = try sequences(repository)
                return all.allSatisfy {
                    status?[String($0)] == WorkerStatusText.running
                        && seq[$0, default: 0] > initialSequence[$0, default: 0]
                }
            }
            try #require(warm, "warm-up failed\n\(supervisor.logTail())")
            let supervisorPid = supervisor.pid
            // The launcher's socket aside: once killed, the launcher comes
            // back only with a worker started 30 s after its last launch.
            func descriptors() -> [String: Int]? {
                guard var kinds = SoakSupport.descriptorKinds(supervisorPid) else { return nil }
                if supervisor.launcherPid() != nil, let sockets = kinds["socket"] { kinds["socket"] = sockets - 1 }
                return kinds
            }
            let descriptorsBefore = descriptors()
            var everyWorker = Set(supervisor.workerPids())
            var faults: [Fault] = []
            let started = try repository.now()

            // The worker launcher first: the workers below are replaced
            // without it.
            let launcher = try #require(supervisor.launcherPid(), "no worker launcher\n\(supervisor.logTail())")
            kill(launcher, SIGKILL)
            #expect(await eventually(timeout: 5, interval: 0.05) { !ProcessTable.isAlive(launcher) })
            #expect(supervisor.workerPids().count == all.count, "the workers do not notice")

            // Three SIGKILLs, the first aimed at a snapshot in flight.
            for round in 0..<3 {
                var victim: pid_t?
                var midSnapshot = false
                if round == 0 {
                    let deadline = Monotonic.now() + 2 * frequency
                    while victim == nil, Monotonic.now() < deadline {
                        let ports = try repository.admin.execute(
                            "SELECT client_port FROM pg_stat_activity WHERE datname = current_database()"
                                + " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND client_port IS NOT NULL"
                                + " AND application_name NOT LIKE '%main thread%' AND application_name LIKE 'PoWA%'"
                        ).rows.compactMap { $0[0].flatMap { Int($0) } }
                        let workers = supervisor.workerPids()
                        for port in ports where victim == nil {
                            victim = SoakSupport.owner(ofLocalPort: port, among: workers)
                        }
                        if victim == nil { try await Task.sleep(nanoseconds: 20_000_000) }
                    }
                    midSnapshot = victim != nil
                }
                let workers = supervisor.workerPids()
                everyWorker.formUnion(workers)
                guard let pid = victim ?? workers.randomElement() else { continue }
                let hit = serverOf(pid, servers)
                let at = try repository.now()
                kill(pid, SIGKILL)
                // Over when a new worker of that server is connected to it.
                _ = await eventually(timeout: 20, interval: 0.05) {
                    supervisor.workerPids().contains { $0 != pid && serverOf($0, servers) == hit && hit != nil }
                }
                faults.append(
                    Fault(
                        what: midSnapshot ? "SIGKILL mid-snapshot" : "SIGKILL", start: at,
                        end: try repository.now(), servers: hit.map { [$0] } ?? all))
                #expect(try await askStatus() != nil, "no answer after a SIGKILL\n\(supervisor.logTail())")
                try await Task.sleep(nanoseconds: 1_500_000_000)
            }

            // A remote goes away for two periods and comes back.
            let stopAt = try repository.now()
            try await dedicated.control("stop")
            #expect(try await askStatus() != nil)
            try await Task.sleep(nanoseconds: UInt64(2 * frequency * 1e9))
            try await dedicated.control("start")
            faults.append(
                Fault(what: "remote stop/start", start: stopAt, end: try repository.now(), servers: stoppable))

            // Hostile payloads, then a burst; the supervisor keeps answering.
            let hostile = try NotifyClient(cluster: repository.cluster, database: repository.database)
            for payload in Self.hostilePayloads { try hostile.send(payload) }
            for index in 0..<50 { try hostile.send("WORKERS_STATUS soak_burst_\(index)") }
            #expect(try await askStatus() != nil, "no answer after hostile payloads\n\(supervisor.logTail())")
            let nobody = try NotifyClient(
                cluster: repository.cluster, database: repository.database, user: TestEnvironment.unprivilegedRole)
            let refused = try await nobody.request("WORKERS_STATUS")
            #expect(refused.map { !$0.hasPrefix("WORKERS_STATUS OK") } ?? true, "\(refused ?? "")")

            // Settle: every server running and snapshotted after the last fault.
            let lastFault = try repository.now()
            let settled = try await eventually(timeout: 3 * frequency + 15, interval: 0.5) {
                let status = try await askStatus()
                return try all.allSatisfy { srvid in
                    try status?[String(srvid)] == WorkerStatusText.running
                        && (repository.lastSnapshot(srvid) ?? 0) > lastFault
                }
            }
            #expect(settled, "not every server collects again\n\(supervisor.logTail())")

            // The supervisor: same process, same descriptors, every request answered.
            #expect(supervisor.process.exitStatus() == nil && ProcessTable.isAlive(supervisorPid))
            #expect(
                descriptors() == descriptorsBefore,
                "descriptors: before \(String(describing: descriptorsBefore)), after \(String(describing: descriptors()))"
            )
            #expect(answered == sent, "\(sent - answered) of \(sent) status requests unanswered")
            let workers = supervisor.workerPids()
            everyWorker.formUnion(workers)
            #expect(workers.count == all.count, "\(workers.count) workers for \(all.count) servers")

            // SIGTERM: exit 0 and nothing left behind, killed workers included.
            supervisor.signal(SIGTERM)
            let termination = await supervisor.process.waitForExit(timeout: 20)
            #expect(termination == .exited(0), "\(String(describing: termination))\n\(supervisor.logTail())")
            let gone = await eventually(timeout: 5) { everyWorker.allSatisfy { !ProcessTable.isAlive($0) } }
            #expect(gone, "left behind: \(everyWorker.filter { ProcessTable.isAlive($0) })")

            try checkRepository(
                repository, servers: all, initialSequence: initialSequence,
                faults: faults, since: started)
        }
    }

    /// `_tmp` tables empty; every committed snapshot present in every
    /// always-filled datasource; gaps only where a fault hit that server.
    private func checkRepository(
        _ repository: PowaRepositoryFixture, servers: Set<Int>, initialSequence: [Int: Int],
        faults: [Fault], since started: Double
    ) throws {
        let snapshots = try checkWholeSnapshots(repository, servers: servers, initialSequence: initialSequence)
        for srvid in servers.sorted() {
            // Gaps longer than 1.5 periods need a fault of this server that
            // started within them and ended at most two periods before their end.
            let times = snapshots[srvid, default: []].filter { $0 >= started - Self.frequency }
            for (from, to) in zip(times, times.dropFirst()) where to - from > 1.5 * Self.frequency + 1 {
                let causes = faults.filter { $0.servers.contains(srvid) && $0.start >= from - 1 && $0.start <= to }
                let explained = causes.contains { to <= $0.end + 2 * Self.frequency + 5 }
                #expect(explained, "server \(srvid): no snapshot for \(Int(to - from)) s without a fault to explain it")
            }
        }
    }

    /// `_tmp` tables empty; every committed snapshot present in every
    /// always-filled datasource. Returns each server's snapshot times.
    private func checkWholeSnapshots(
        _ repository: PowaRepositoryFixture, servers: Set<Int>, initialSequence: [Int: Int]
    ) throws -> [Int: [Double]] {
        var snapshots: [Int: [Double]] = [:]
        let tmpTables = try repository.admin.execute(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind = 'r' AND c.relname LIKE '%\\_tmp'"
        ).rows.compactMap { $0[0] }
        #expect(tmpTables.count >= 8)
        for table in tmpTables {
            #expect(try repository.admin.execute("SELECT count(*) FROM \(table)").first?[0] == "0", "\(table)")
        }
        let sequence = try sequences(repository)
        for srvid in servers.sorted() {
            let committed = sequence[srvid, default: 0] - initialSequence[srvid, default: 0]
            var timestamps: [[Double]] = []
            for (table, timestamp) in Self.wholeSnapshotTables {
                let rows = try repository.admin.execute(
                    "SELECT DISTINCT extract(epoch FROM \(timestamp))::float8 AS t FROM \(table) WHERE srvid = $1 ORDER BY t",
                    [String(srvid)]
                ).rows
                timestamps.append(rows.compactMap { $0[0].flatMap(Double.init) })
            }
            #expect(
                timestamps[0].count == committed,
                "server \(srvid): \(committed) committed, \(timestamps[0].count) in bgwriter")
            for ((table, _), values) in zip(Self.wholeSnapshotTables, timestamps) {
                #expect(values == timestamps[0], "server \(srvid): \(table) does not hold the same snapshots")
            }
            snapshots[srvid] = timestamps[0]
        }
        return snapshots
    }

    /// The soak with several instances on a repository of their own (lease
    /// 3 s): one instance frozen then resumed, one SIGKILLed (and a fresh
    /// one started, so that two run again), then the repository restarted
    /// while two run. Whatever happened: no server snapshotted twice within
    /// half a frequency, every server collected again after each fault,
    /// every committed snapshot whole, and no process left behind.
    @Test(.timeLimit(.minutes(4)))
    func twoInstancesSurviveAFreezeAKillAndARepositoryRestart() async throws {
        guard let dedicated = try await DedicatedCluster(kind: "powa4-repo", prefix: "soakrepo") else { return }
        do {
            try await soakTwoInstances(dedicated)
        } catch {
            await dedicated.remove()
            throw error
        }
        await dedicated.remove()
    }

    private func soakTwoInstances(_ dedicated: DedicatedCluster) async throws {
        typealias Several = SeveralInstancesTests
        let frequency = Int(Self.frequency)
        var repository = try PowaRepositoryFixture(
            cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
        let servers = try (31...38).map { try repository.registerServer(address: $0, frequency: frequency) }
        // Every snapshot stays in the *_current tables, where it is checked.
        try repository.admin.execute("UPDATE powa_servers SET powa_coalesce = 1000000 WHERE id > 0")
        let initialSequence = try sequences(repository)
        var instances = try await Several.startInstances(2, on: repository)
        var everyProcess: Set<pid_t> = []
        func remember() {
            for instance in instances {
                everyProcess.insert(instance.pid)
                everyProcess.formUnion(instance.workerPids())
            }
        }
        // After a fault: the servers split among the running instances as
        // rendezvous hashing says, and each snapshotted since the fault.
        // Bound: the split, then a lease for leases from before the fault
        // to end, then a frequency.
        func recovered(since: Double, _ what: String) async throws {
            let bound = Several.settleBound(servers.count) + Several.lease + Self.frequency
            let done = try await Several.patiently(timeout: bound) {
                try servers.allSatisfy { (try repository.lastSnapshot($0) ?? 0) > since }
                    && Several.settled(servers, over: instances, repository)
            }
            remember()
            #expect(
                done,
                "not every server collected again within \(Int(bound)) s after \(what)\n\(Several.logs(instances))")
        }
        do {
            try await recovered(since: try repository.now(), "the start")

            // One instance frozen for longer than its lease, then resumed.
            let frozen = instances[0]
            frozen.signal(SIGSTOP)
            try await Task.sleep(nanoseconds: UInt64((2 * Several.lease + Several.round) * 1e9))
            frozen.signal(SIGCONT)
            try await recovered(since: try repository.now(), "SIGSTOP then SIGCONT")

            // One instance killed; a fresh one started.
            let victim = instances.removeLast()
            victim.signal(SIGKILL)
            _ = await eventually(timeout: Several.slack) { victim.process.exitStatus() != nil }
            await victim.stop()
            instances += try await Several.startInstances(1, on: repository)
            try await recovered(since: try repository.now(), "SIGKILL of an instance")

            // The repository restarted under both.
            repository.close()
            try await dedicated.bounce(downFor: .seconds(2))
            repository = try PowaRepositoryFixture(
                cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
            try await recovered(since: try repository.now(), "a repository restart")
        } catch {
            for instance in instances { await instance.stop() }
            repository.close()
            throw error
        }

        // SIGTERM: each exits 0, nothing left behind (the killed one's
        // workers included).
        for instance in instances {
            instance.signal(SIGTERM)
            let termination = await instance.process.waitForExit(timeout: 20)
            #expect(termination == .exited(0), "\(String(describing: termination))\n\(instance.logTail())")
        }
        let gone = await eventually(timeout: 5) { everyProcess.allSatisfy { !ProcessTable.isAlive($0) } }
        #expect(gone, "left behind: \(everyProcess.filter { ProcessTable.isAlive($0) })")
        for instance in instances { await instance.stop() }
        #expect(try Several.doubleSnapshots(servers, repository).isEmpty, "\(Several.logs(instances))")
        _ = try checkWholeSnapshots(repository, servers: Set(servers), initialSequence: initialSequence)
        repository.close()
    }

    private func sequences(_ repository: PowaRepositoryFixture) throws -> [Int: Int] {
        var result: [Int: Int] = [:]
        for row in try repository.admin.execute("SELECT srvid, coalesce_seq FROM powa_snapshot_metas WHERE srvid > 0")
            .rows
        {
            if let srvid = row[0].flatMap({ Int($0) }), let seq = row[1].flatMap({ Int($0) }) { result[srvid] = seq }
        }
        return result
    }
}

/// The server a worker collects, from the remote connection it holds.
private func serverOf(_ pid: pid_t, _ servers: [String: Int]) -> Int? {
    SoakSupport.remoteEndpoints(pid).compactMap { servers[$0] }.first
}
