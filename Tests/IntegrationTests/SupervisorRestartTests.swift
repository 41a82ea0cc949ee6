import Glibc
import PowaCore
import TestSupport
import Testing

/// Workers that die, crash at start or hang are replaced, without
/// disturbing the other servers' workers.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct SupervisorRestartTests {
    static func status(_ client: NotifyClient, _ srvid: Int) async throws -> String? {
        try await client.workersStatus(srvid, timeout: 2)?[String(srvid)]
    }

    @Test func aKilledWorkerIsReplacedAndTheOthersKeepCollecting() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let addresses = [8, 9, 10]
            let ids = try addresses.map { try repository.registerServer(address: $0, frequency: 5) }
            let names = addresses.map { "127.0.0.\($0):\(repository.remote.port)" }
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let collecting = try await eventually(timeout: 20, interval: 0.25) {
                    try await client.workersStatus()?.values.allSatisfy { $0 == WorkerStatusText.running } == true
                        && ids.allSatisfy { (try? repository.lastSnapshot($0)) ?? nil != nil }
                }
                try #require(collecting, "\(supervisor.logTail())")
                let pids = names.map { supervisor.workerPid(named: $0) }
                let victim = try #require(pids[0])

                let killedAt = try repository.now()
                kill(victim, SIGKILL)
                var replacement: pid_t?
                let replaced = await eventually(timeout: 2, interval: 0.02) {
                    replacement = supervisor.workerPid(named: names[0])
                    return replacement != nil && replacement != victim
                }
                #expect(replaced, "no new worker within 2 s\n\(supervisor.logTail())")
                #expect(!ProcessTable.isAlive(victim))
                #expect(
                    supervisor.logLines(
                        thread: names[0], containing: "killed by signal 9; restarting the worker in 1 s"
                    ).count == 1,
                    "\(supervisor.logTail())")
                let runningAgain = try await eventually(timeout: 10) {
                    try await Self.status(client, ids[0]) == WorkerStatusText.running
                }
                #expect(runningAgain, "\(supervisor.logTail())")

                // The other servers' workers were not touched and kept
                // snapshotting every 5 s.
                #expect(names.dropFirst().map { supervisor.workerPid(named: $0) } == Array(pids.dropFirst()))
                for srvid in ids {
                    let snapshotted = try await eventually(timeout: 12, interval: 0.25) {
                        (try repository.lastSnapshot(srvid) ?? 0) > killedAt
                    }
                    #expect(snapshotted, "server \(srvid) took no snapshot after the kill\n\(supervisor.logTail())")
                }
                #expect(names.dropFirst().map { supervisor.workerPid(named: $0) } == Array(pids.dropFirst()))
            }
        }
    }

    /// A `powa_servers` row the worker refuses (port out of range) makes it
    /// exit 2 at once: restarts back off 1, 2, 4, 8 s, and the status says
    /// why meanwhile. A healthy server beside it is not affected.
    @Test func aWorkerFailingAtStartBacksOffExponentially() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let bad = try repository.registerServer(address: 11, frequency: 60)
            try repository.admin.execute("UPDATE powa_servers SET port = 70000 WHERE id = $1", [String(bad)])
            let good = try repository.registerServer(address: 12, frequency: 60)
            let badName = "127.0.0.11:70000"
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                var badStatus: String?
                let explained = try await eventually(timeout: 10) {
                    badStatus = try await Self.status(client, bad)
                    return badStatus?.hasPrefix("restarting in ") == true
                        && badStatus?.hasSuffix(" s (exited with status 2)") == true
                }
                #expect(explained, "status: \(String(describing: badStatus))")
                #expect(try await Self.status(client, good) == WorkerStatusText.running)

                let backedOff = await eventually(timeout: 15, interval: 0.2) {
                    !supervisor.logLines(thread: badName, containing: "restarting the worker in 8 s").isEmpty
                }
                try #require(backedOff, "\(supervisor.logTail())")
                let delays = supervisor.logLines(
                    thread: badName, containing: "exited with status 2; restarting the worker in "
                )
                .compactMap { $0.split(separator: " in ").last.map { String($0.prefix { $0 != " " }) } }
                #expect(Array(delays.prefix(4)) == ["1", "2", "4", "8"], "\(supervisor.logTail())")
                // The starts are that far apart.
                let starts = supervisor.logLines(thread: badName, containing: "worker started (pid ").map(
                    Self.secondsOfDay)
                try #require(starts.count >= 4)
                for (index, delay) in [1.0, 2.0, 4.0].enumerated() {
                    let gap = starts[index + 1] - starts[index]
                    #expect(gap >= delay - 0.05 && gap < delay + 1, "start \(index + 1) → \(index + 2): \(gap) s")
                }
                #expect(supervisor.log.contains("port out of range: 70000"), "the worker says why it exits")
                #expect(try await Self.status(client, good) == WorkerStatusText.running)
            }
        }
    }

    /// A worker that stops responding (SIGSTOP: it cannot even handle
    /// SIGTERM) neither blocks the supervisor nor stays: the watchdog finds
    /// it, kills it and starts another.
    @Test func aStoppedWorkerIsReplacedByTheWatchdog() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            let srvid = try repository.registerServer(address: 13, frequency: 60)
            let name = "127.0.0.13:\(repository.remote.port)"
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let running = try await eventually(timeout: 20) {
                    try await Self.status(client, srvid) == WorkerStatusText.running
                }
                try #require(running, "\(supervisor.logTail())")
                let frozen = try #require(supervisor.workerPid(named: name))
                kill(frozen, SIGSTOP)
                defer { kill(frozen, SIGKILL) }

                // Meanwhile, messages for it pile up (each request below
                // queues a 7 kB line, 140 kB in all, twice what a pipe
                // holds): writing them must never block the supervisor.
                // The twenty are sent at once, well within the watchdog's
                // 75 s, whatever the load on this test process; each is
                // answered OK, queued for the stopped worker.
                let dbname = String(repeating: "d", count: 7000)
                var channels: [String] = []
                for _ in 0..<20 {
                    let channel = NotifyClient.randomChannel()
                    try client.listen(channel)
                    try client.send("REFRESH_DB_CAT \(channel) \(srvid) 1 \(dbname)")
                    channels.append(channel)
                }
                for channel in channels {
                    let answer = try await client.answer(on: channel, command: "REFRESH_DB_CAT", timeout: 10)
                    #expect(answer?.hasPrefix("REFRESH_DB_CAT OK ") == true, "\(String(describing: answer))")
                }
                #expect(try await client.workersStatus(srvid, timeout: 1) != nil, "still answering at once")

                var status: String?
                // Idle, it promised a line within 60 s: suspected 15 s
                // after that, found stopped and ended at once. The status
                // that says so lasts only until the restart, so the log
                // line counts too (a loaded machine may poll past it).
                let noticed = try await eventually(timeout: 100, interval: 0.5) {
                    status = try await Self.status(client, srvid)
                    return status?.contains("(no message for ") == true
                        || supervisor.log.contains("its process is stopped, terminating it")
                }
                #expect(noticed, "status: \(String(describing: status))\n\(supervisor.logTail())")
                var replacement: pid_t?
                let replaced = try await eventually(timeout: 15, interval: 0.25) {
                    replacement = supervisor.workerPid(named: name)
                    guard replacement != nil, replacement != frozen else { return false }
                    return try await Self.status(client, srvid) == WorkerStatusText.running
                }
                #expect(replaced, "\(supervisor.logTail())")
                #expect(!ProcessTable.isAlive(frozen))
                #expect(supervisor.logLines(thread: name, containing: "worker sent nothing for").count == 1)
                #expect(
                    supervisor.logLines(thread: name, containing: "did not exit after SIGTERM, killing it").count == 1)
            }
        }
    }

    /// Seconds since midnight of a log line's timestamp
    /// (`YYYY-MM-DD HH:MM:SS,mmm …`).
    static func secondsOfDay(_ line: String) -> Double {
        let clock = line.dropFirst(11).prefix(12)
        let parts = clock.split(whereSeparator: { $0 == ":" || $0 == "," }).compactMap { Double($0) }
        guard parts.count == 4 else { return 0 }
        return parts[0] * 3600 + parts[1] * 60 + parts[2] + parts[3] / 1000
    }
}
