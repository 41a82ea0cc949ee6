import Glibc
import PowaCore
import TestSupport
import Testing

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
    /// A coordination round runs every third of the lease.
    static let round = lease / 3
    /// Room for a machine busy with the rest of the suite: bounds below are
    /// what the configuration allows plus this, never a bet on the load.
    static let slack = 10.0

    /// Until the servers are split as rendezvous hashing says: the first
    /// round claims what is free, then each instance hands over a server
    /// per round (stop, release, the winner's claim: three rounds each),
    /// then a worker starts.
    static func settleBound(_ servers: Int) -> Double {
        Double(servers) * 3 * round + lease + slack
    }

    /// Like `eventually`, but also tries at least `attempts` times: a test
    /// process whose tasks wait for one of the runner's few threads (the
    /// full suite on two cores) can sleep through a whole timeout between
    /// two tries, and a deadline alone would then fail a condition that was
    /// never given its chance.
    static func patiently(
        timeout: Double, attempts: Int = 5, interval: Double = 0.25, _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = Monotonic.now() + timeout
        var tried = 0
        while true {
            if try await condition() { return true }
            tried += 1
            if tried >= attempts, Monotonic.now() >= deadline { return false }
            try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
    }

    /// Starts `count` collectors on `repository`, each with the same file.
    static func startInstances(
        _ count: Int, on repository: PowaRepositoryFixture, extra: String = extra
    ) async throws -> [SupervisorProcess] {
        var instances: [SupervisorProcess] = []
        for _ in 0..<count {
            let instance = try SupervisorProcess(
                configuration: SupervisorProcess.configuration(
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
        let rows = try repository.query(
            """
            SELECT srvid, owner FROM powa_collector_coord.ownership
            WHERE owner IS NOT NULL AND lease_until > clock_timestamp()
            """
        ).rows
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

    /// srvid → the name its worker logs under (`host:port`).
    static func workerNames(_ repository: PowaRepositoryFixture) throws -> [Int: String] {
        var names: [Int: String] = [:]
        for row in try repository.query("SELECT id, hostname || ':' || port FROM powa_servers WHERE id > 0").rows {
            if let srvid = row[0].flatMap({ Int($0) }), let name = row[1] { names[srvid] = name }
        }
        return names
    }

    /// The machine's wall clock, the one log lines are stamped with.
    static func wallClock() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The seconds since the epoch of a log line's local-time stamp
    /// (`YYYY-MM-DD HH:MM:SS,mmm`), nil for a line without one.
    static func stamp(of line: Substring) -> Double? {
        guard line.count > 23 else { return nil }
        let text = Array(line.prefix(23).utf8)
        func number(_ from: Int, _ length: Int) -> Int32? {
            var value: Int32 = 0
            for byte in text[from..<from + length] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), let millis = number(20, 3)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        parts.tm_isdst = -1
        return Double(mktime(&parts)) + Double(millis) / 1000
    }

    /// Snapshots that an instance's workers took through the fence after
    /// `lostAt` and committed, for servers the instance had not claimed
    /// again since: what the fence exists to prevent. A worker logs
    /// "Calling powa_take_snapshot" right after its fence query returned
    /// the row (and holds the row's lock from then until its commit, so a
    /// claim waits for that commit): a fence passed before the loss is
    /// logged before it, even when the commit's own line comes late (a
    /// worker frozen between its commit and its log line). Stamps are
    /// compared, not positions in the captured output, which the test
    /// reads with a delay. Returns "srvid at stamp" for each.
    static func snapshotsThroughTheFence(after lostAt: Double, in log: String, names: [Int: String]) -> [String] {
        let servers = Dictionary(uniqueKeysWithValues: names.map { ($0.value, $0.key) })
        var reclaimed: Set<Int> = []
        var passedAfterLoss: [Int: Double] = [:]
        var broken: [String] = []
        for line in log.split(separator: "\n") {
            guard let stamp = stamp(of: line) else { continue }
            let rest = line.dropFirst(24)
            guard let space = rest.firstIndex(of: " ") else { continue }
            let thread = String(rest[..<space])
            if thread == "-" {
                for srvid in names.keys where stamp >= lostAt && line.contains("claimed server \(srvid) (epoch") {
                    reclaimed.insert(srvid)
                }
                continue
            }
            guard let srvid = servers[thread], !reclaimed.contains(srvid) else { continue }
            if line.contains("Calling powa_take_snapshot(") {
                if stamp >= lostAt { passedAfterLoss[srvid] = stamp } else { passedAfterLoss[srvid] = nil }
            } else if line.contains("Snapshot committed") {
                if let passed = passedAfterLoss.removeValue(forKey: srvid) { broken.append("\(srvid) at \(passed)") }
            } else if line.contains("Snapshot not committed") {
                passedAfterLoss[srvid] = nil
            }
        }
        return broken
    }

    static func logs(_ instances: [SupervisorProcess]) -> String {
        instances.enumerated().map { "--- instance \($0.offset) (pid \($0.element.pid))\n\($0.element.logTail(30))" }
            .joined(separator: "\n")
    }

    /// `count` instances on a new repository database with `serverCount`
    /// servers. `dedicatedRepository`: on a repository cluster of its own,
    /// for a test whose processes sit frozen in a COPY to the repository (a
    /// backend waiting for COPY data does not answer PostgreSQL's
    /// ProcSignalBarrier, so every DROP DATABASE of the cluster, such as
    /// the other tests' fixtures, would wait for it, and with them this
    /// test's runner threads).
    static func withInstances(
        _ count: Int, servers serverCount: Int, dedicatedRepository: Bool = false,
        prepare: (PowaRepositoryFixture, [Int]) throws -> Void = { _, _ in },
        extra: String = extra,
        _ body: (PowaRepositoryFixture, [Int], inout [SupervisorProcess]) async throws -> Void
    ) async throws {
        func run(_ repository: PowaRepositoryFixture) async throws {
            let servers = try (0..<serverCount).map {
                try repository.registerServer(address: 2 + $0, frequency: frequency)
            }
            try prepare(repository, servers)
            var instances = try await startInstances(count, on: repository, extra: extra)
            do {
                try await body(repository, servers, &instances)
            } catch {
                for instance in instances { await instance.stop() }
                throw error
            }
            for instance in instances { await instance.stop() }
        }
        guard dedicatedRepository, TestEnvironment.script != nil else {
            try await withCollectorRepository(powaMajor: 4, run)
            return
        }
        let dedicated = try #require(try await DedicatedCluster(kind: "powa4-repo", prefix: "repo"))
        do {
            let repository = try PowaRepositoryFixture(
                cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
            defer { repository.close() }
            try await run(repository)
        } catch {
            await dedicated.remove()
            throw error
        }
        await dedicated.remove()
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
            let instance = try SupervisorProcess(
                configuration: SupervisorProcess.configuration(dsn: dsn, extra: Self.extra))
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
            let split = try await Self.patiently(timeout: Self.settleBound(servers.count)) {
                try Self.settled(servers, over: instances, repository)
            }
            try #require(split, "\(Self.logs(instances))")
            let everyone = Dictionary(uniqueKeysWithValues: servers.map { (String($0), WorkerStatusText.running) })
            // Every instance's answer lists every server with its real
            // status: powa-web takes whichever comes first. The others'
            // statuses are at most a round old; promptness is the
            // promptness tests' business, so each try waits 3 s for answers.
            let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
            var lastAnswers: [[String: String]?] = []
            let full = try await Self.patiently(timeout: 2 * Self.lease + Self.slack) {
                let channel = NotifyClient.randomChannel()
                try client.listen(channel)
                try client.send("WORKERS_STATUS \(channel)")
                lastAnswers = try await client.drain(channel: channel, timeout: 3).map(NotifyClient.decodeStatus)
                return lastAnswers.count == count && lastAnswers.allSatisfy { $0 == everyone }
            }
            #expect(full, "last answers: \(lastAnswers)\n\(Self.logs(instances))")
            // powa-web's collector list (its "Collector Detail" widget) is
            // the repository's client sessions named as the reference's main
            // thread: one row per instance.
            let listed = try repository.count(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND backend_type = 'client backend'
                  AND application_name LIKE 'PoWA collector - main thread (%'
                """)
            #expect(listed == count, "powa-web would list \(listed) collectors")
            // Single-server requests, answered by the owner and the others alike.
            for srvid in servers {
                #expect(try await client.workersStatus(srvid) == [String(srvid): WorkerStatusText.running])
            }
            // `powa-collector status` names each server's owner.
            let directory = try TemporaryDirectory(prefix: "status")
            defer { directory.remove() }
            let conf = try directory.write("c.conf", SupervisorProcess.configuration(dsn: repository.dsn))
            let status = try await TestProcess.run(
                BuiltProducts.collector, ["status", "--config", conf], in: directory, name: "status", timeout: 60)
            #expect(status.termination == .exited(0), "\(status.stderr)")
            let ids = try Self.instanceIDs(repository)
            let owners = try Self.owners(repository)
            let hostnames = try Dictionary(
                uniqueKeysWithValues: repository.query(
                    "SELECT id, hostname FROM powa_collector_coord.instances"
                ).rows.compactMap { row in
                    row[0].flatMap { id in row[1].map { (id, $0) } }
                })
            let lines = status.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.contains("  INSTANCE  ") == true, "\(status.stdout)")
            for srvid in servers {
                let owner = try #require(owners[srvid])
                let pid = try #require(ids.first { $0.value == owner }?.key)
                let row = lines.first { $0.hasPrefix("\(srvid) ") } ?? ""
                #expect(
                    row.contains(" \(hostnames[owner] ?? "?") pid \(pid) "),
                    "server \(srvid), owner \(owner):\n\(status.stdout)")
            }
            // FORCE_SNAPSHOT acts once: only the owner answers it.
            let channel = NotifyClient.randomChannel()
            try client.listen(channel)
            try client.send("FORCE_SNAPSHOT \(channel) \(servers[0])")
            let answers = try await client.drain(channel: channel, timeout: 3)
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
            let split = try await Self.patiently(timeout: Self.settleBound(servers.count)) {
                try Self.settled(servers, over: instances, repository)
            }
            try #require(split, "\(Self.logs(instances))")
            let victim = instances[0]
            let ids = try Self.instanceIDs(repository)
            let victimsServers = try Self.owners(repository).filter { $0.value == ids[victim.pid] }.map(\.key)
            let killedAt = try repository.now()
            victim.signal(SIGKILL)
            _ = await eventually(timeout: Self.slack) { victim.process.exitStatus() != nil }
            instances.removeFirst()
            await victim.stop()
            let survivor = instances[0]
            // lease/3 + start + one frequency, with room for a slow machine.
            let bound = Self.round + Double(Self.frequency) + Self.slack
            let collected = try await Self.patiently(timeout: bound) {
                try victimsServers.allSatisfy { (try repository.lastSnapshot($0) ?? 0) > killedAt }
                    && Self.settled(servers, over: [survivor], repository)
            }
            #expect(collected, "servers \(victimsServers) not collected within \(bound) s\n\(Self.logs([survivor]))")
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty)
        }
    }

    /// A frozen supervisor keeps its session: only the lease ends its
    /// ownership, and the fence keeps its workers (still running, or frozen
    /// too) from committing from then on. So that the fence is what is
    /// tested, each of its workers is made to be inside a snapshot across
    /// the loss: every server has a datasource that waits (polling, since
    /// the collector's lock_timeout would end a lock wait) for an advisory
    /// lock the test holds on the remote until the other instance has
    /// claimed the servers (a worker needs its supervisor for a repository
    /// slot to begin a snapshot, so a frozen supervisor's idle workers
    /// begin none). Once resumed the instance stops them, and later wins
    /// some servers back by fresh claims (a new epoch), whose snapshots
    /// are its own again.
    @Test(arguments: [false, true])
    func aFrozenInstanceCommitsNothingAfterLosingItsServers(workersToo: Bool) async throws {
        let remote = TestEnvironment.powa4Remote
        let lockKey = Int64.random(in: 1...Int64(Int32.max))
        var datasources: [Int: CustomDatasource] = [:]
        defer { for datasource in datasources.values { datasource.dropRemote(remote) } }
        let prepare = { (repository: PowaRepositoryFixture, servers: [Int]) throws in
            for srvid in servers {
                datasources[srvid] =
                    (try CustomDatasource(
                        fixture: repository, srvid: srvid, remote: remote,
                        remoteBody: """
                            WITH RECURSIVE held(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM held
                                WHERE NOT pg_catalog.pg_try_advisory_xact_lock_shared(\(lockKey))
                                  AND pg_catalog.pg_sleep(0.05) IS NOT NULL)
                            SELECT 1, 'x'::text FROM (SELECT count(*) FROM held) c
                            """))
            }
        }
        // The held snapshots must outlive the loss, not their budget.
        let extra = Self.extra + #", "snapshot_timeout": 120"#
        try await Self.withInstances(2, servers: 4, dedicatedRepository: true, prepare: prepare, extra: extra) {
            repository, servers, instances in
            let split = try await Self.patiently(timeout: Self.settleBound(servers.count)) {
                try Self.settled(servers, over: instances, repository)
            }
            try #require(split, "\(Self.logs(instances))")
            let frozen = instances[0]
            let other = instances[1]
            let ids = try Self.instanceIDs(repository)
            let otherID = try #require(ids[other.pid])
            let names = try Self.workerNames(repository)
            let frozensServers = try Self.owners(repository).filter { $0.value == ids[frozen.pid] }.map(\.key).sorted()
            let lock = try remote.connect(database: "powa")
            defer { lock.close() }
            try lock.execute("SELECT pg_catalog.pg_advisory_lock($1::bigint)", [String(lockKey)])
            var locked = true
            defer {
                if locked {
                    _ = try? lock.execute("SELECT pg_catalog.pg_advisory_unlock($1::bigint)", [String(lockKey)])
                }
            }
            // Each of its workers begins its next snapshot within a frequency
            // and waits in the held datasource (its function's name is this
            // test's own: parallel tests use the same worker names).
            let held = try await Self.patiently(timeout: Double(Self.frequency) + Self.slack) {
                let waiting = try lock.execute(
                    """
                    SELECT query FROM pg_catalog.pg_stat_activity WHERE wait_event = 'PgSleep'
                    """
                ).rows.compactMap { $0[0] }
                return frozensServers.allSatisfy { srvid in
                    guard let function = datasources[srvid]?.querySource else { return false }
                    return waiting.contains { $0.contains(function + "(") }
                }
            }
            try #require(held, "its workers did not reach the held datasource\n\(frozen.logTail())")
            let oldWorkers = Set(frozen.workerPids())
            let frozenWorkers = workersToo ? Array(oldWorkers) + [frozen.launcherPid()].compactMap { $0 } : []
            frozen.signal(SIGSTOP)
            for pid in frozenWorkers { kill(pid, SIGSTOP) }
            // Its leases end a lease after its last round, then the other's
            // next round claims.
            let takenOver = try await Self.patiently(timeout: Self.lease + 2 * Self.round + Self.slack, interval: 0.1) {
                let owners = try Self.owners(repository)
                return servers.allSatisfy { owners[$0] == otherID }
            }
            let lostAt = Self.wallClock()
            // Its workers go on with their snapshots (thawed first when they
            // were frozen too, while their supervisor stays frozen, so that
            // it does not stop them before they reach the fence).
            for pid in frozenWorkers { kill(pid, SIGCONT) }
            try lock.execute("SELECT pg_catalog.pg_advisory_unlock($1::bigint)", [String(lockKey)])
            locked = false
            guard takenOver else {
                frozen.signal(SIGCONT)
                Issue.record("the other instance did not take over\n\(Self.logs(instances))")
                return
            }
            let fencedOff = await Self.patiently(timeout: Self.slack) {
                frozensServers.allSatisfy { srvid in
                    !frozen.logLines(containing: "this instance no longer owns server \(srvid) ").isEmpty
                }
            }
            #expect(fencedOff, "each held snapshot meets the fence and rolls back\n\(frozen.logTail(80))")
            frozen.signal(SIGCONT)
            // Its first round, due at once, stops the workers of the lost
            // servers (new workers for servers it wins back may start soon
            // after: only the old ones count).
            let stopped = await Self.patiently(timeout: 3 * Self.round + Self.slack) {
                Set(frozen.workerPids()).isDisjoint(with: oldWorkers)
            }
            #expect(stopped, "the resumed instance stops the workers of servers it lost\n\(frozen.logTail())")
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
            // Once back, it takes its share again.
            let rebalanced = try await Self.patiently(timeout: Self.settleBound(servers.count)) {
                try Self.settled(servers, over: instances, repository)
            }
            #expect(rebalanced, "\(Self.logs(instances))")
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
            let fenceBroken = Self.snapshotsThroughTheFence(after: lostAt, in: frozen.log, names: names)
            #expect(fenceBroken.isEmpty, "committed after losing the server: \(fenceBroken)\n\(frozen.logTail(80))")
        }
    }

    /// A third instance joining a running pair gets its share, handed over
    /// a server per round per instance, never in one burst.
    @Test func aJoiningInstanceTakesItsShareGradually() async throws {
        try await Self.withInstances(2, servers: 6) { repository, servers, instances in
            let split = try await Self.patiently(timeout: Self.settleBound(servers.count)) {
                try Self.settled(servers, over: instances, repository)
            }
            try #require(split, "\(Self.logs(instances))")
            let joining = try await Self.startInstances(1, on: repository)
            instances += joining
            let shared = try await Self.patiently(timeout: Self.settleBound(servers.count)) {
                try Self.settled(servers, over: instances, repository)
            }
            #expect(shared, "\(Self.logs(instances))")
            for instance in instances.prefix(2) {
                let seconds = instance.logLines(thread: "-", containing: "handing it over").map {
                    String($0.prefix(19))
                }
                #expect(Set(seconds).count == seconds.count, "at most one hand-over per round: \(seconds)")
            }
            #expect(try Self.doubleSnapshots(servers, repository).isEmpty, "\(Self.logs(instances))")
        }
    }

    @Test func instancesCarryOnAfterTheRepositoryRestarts() async throws {
        guard TestEnvironment.script != nil else { return }
        let dedicated = try #require(try await DedicatedCluster(kind: "powa4-repo", prefix: "repo"))
        do {
            let setup = try PowaRepositoryFixture(
                cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
            let servers = try [2, 3, 4].map { try setup.registerServer(address: $0, frequency: Self.frequency) }
            setup.close()
            let instances = try await Self.startInstances(2, on: setup)
            do {
                var repository = try PowaRepositoryFixture(
                    cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
                let split = try await Self.patiently(timeout: Self.settleBound(servers.count)) {
                    try Self.settled(servers, over: instances, repository)
                }
                try #require(split, "\(Self.logs(instances))")
                repository.close()
                try await dedicated.bounce(downFor: .seconds(2))
                repository = try PowaRepositoryFixture(
                    cluster: dedicated.cluster, remote: TestEnvironment.powa4Remote, database: "powa")
                defer { repository.close() }
                let restartedAt = try repository.now()
                // Reconnection, a lease for the leases from before the
                // restart to end, then a frequency.
                let resumed = try await Self.patiently(
                    timeout: Self.settleBound(servers.count) + Self.lease + Double(Self.frequency) + Self.slack
                ) {
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
