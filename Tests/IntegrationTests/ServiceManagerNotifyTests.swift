import Glibc
import PowaCore
import TestSupport
import Testing

/// systemd's notify protocol, received by a real datagram socket as
/// systemd's would, and what the log says at a systemd-style stop.
@Suite(.enabled(if: TestEnvironment.isAvailable)) struct ServiceManagerNotifyTests {
    @Test func readyReloadingStoppingAndWatchdogOnlyWhileTheLoopRuns() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try repository.registerServer(address: 9, frequency: 5)
            let directory = try TemporaryDirectory(prefix: "notify")
            defer { directory.remove() }
            let manager = try ServiceManagerSocket(directory: directory)
            // 1 s: keep-alives every 0.5 s.
            let environment = ["NOTIFY_SOCKET=\(manager.path)", "WATCHDOG_USEC=1000000"]
            try await withCollector(on: repository, environment: environment) { supervisor in
                #expect(await manager.waitFor(timeout: 20) { $0 == "READY=1" }, "\(supervisor.logTail())")
                #expect(await manager.waitFor(timeout: 5) { $0 == "WATCHDOG=1" })
                // The summary line (what the worker reports depends on the
                // remote, which other tests may be loading).
                let summarized = await eventually(timeout: 60, interval: 0.02) {
                    manager.drain()
                    return manager.received.contains {
                        $0.hasPrefix("STATUS=1 server: ") && $0.hasSuffix("; repository connected")
                    }
                }
                #expect(summarized, "\(manager.received.filter { $0 != "WATCHDOG=1" })\n\(supervisor.logTail())")

                manager.drain()
                let before = manager.received.count
                supervisor.signal(SIGHUP)
                // RELOADING=1 then READY=1, often in the same read.
                let reloaded = await eventually(timeout: 10, interval: 0.02) {
                    manager.drain()
                    let since = manager.received.dropFirst(before)
                    guard let reloading = since.firstIndex(where: { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") })
                    else { return false }
                    return since[reloading...].contains("READY=1")
                }
                #expect(reloaded, "\(manager.received)")

                // A stopped supervisor sends no keep-alive: systemd's
                // watchdog would then restart it.
                supervisor.signal(SIGSTOP)
                try await Task.sleep(nanoseconds: 300_000_000)
                manager.drain()
                try await Task.sleep(nanoseconds: 2_500_000_000)
                let whileStopped = manager.drain()
                supervisor.signal(SIGCONT)
                #expect(!whileStopped.contains("WATCHDOG=1"), "\(whileStopped)")
                #expect(await manager.waitFor(timeout: 5) { $0 == "WATCHDOG=1" })

                supervisor.signal(SIGTERM)
                #expect(await manager.waitFor(timeout: 15) { $0 == "STOPPING=1" })
                #expect(await supervisor.process.waitForExit(timeout: 20) == .exited(0))
            }
        }
    }

    /// The keep-alive comes from the event loop's own turn: while the loop
    /// is stuck in a statement (here a reload whose server list waits on a
    /// lock on powa_servers) none goes out, where a keep-alive thread or
    /// timer would keep sending.
    @Test func noWatchdogWhileTheLoopIsStuck() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try repository.registerServer(address: 13, frequency: 5)
            let directory = try TemporaryDirectory(prefix: "notify")
            defer { directory.remove() }
            let manager = try ServiceManagerSocket(directory: directory)
            let environment = ["NOTIFY_SOCKET=\(manager.path)", "WATCHDOG_USEC=600000"]
            try await withCollector(on: repository, environment: environment) { supervisor in
                #expect(await manager.waitFor(timeout: 20) { $0 == "READY=1" }, "\(supervisor.logTail())")
                #expect(await manager.waitFor(timeout: 5) { $0 == "WATCHDOG=1" })
                let locker = try repository.cluster.connect(database: repository.database)
                defer { locker.close() }
                try locker.executeSimple("BEGIN; LOCK TABLE powa_servers IN ACCESS EXCLUSIVE MODE")
                manager.drain()
                let before = manager.received.count
                supervisor.signal(SIGHUP)
                #expect(await manager.waitFor(timeout: 10) { $0.hasPrefix("RELOADING=1") })
                try await Task.sleep(nanoseconds: 1_000_000_000)
                // The loop is indeed stuck: the reload has not finished.
                let reloadDoneWhileLocked = !supervisor.logLines(thread: "-", containing: "reload done").isEmpty
                try locker.executeSimple("ROLLBACK")
                #expect(!reloadDoneWhileLocked, "\(supervisor.logTail())")
                // Between RELOADING and the READY that ends the reload (the
                // server list read, or given up after the session's 2 s
                // lock_timeout), the loop was inside the statement: one
                // sender's datagrams keep their order, so nothing sent then
                // may be a keep-alive.
                let ended = await eventually(timeout: 10, interval: 0.02) {
                    manager.drain()
                    return manager.received.dropFirst(before).contains("READY=1")
                }
                #expect(ended, "\(manager.received)")
                let since = Array(manager.received.dropFirst(before))
                if let reloading = since.firstIndex(where: { $0.hasPrefix("RELOADING=1") }),
                    let ready = since[reloading...].firstIndex(of: "READY=1")
                {
                    #expect(!since[reloading..<ready].contains("WATCHDOG=1"), "\(since)")
                } else {
                    Issue.record("no RELOADING=1 then READY=1 in \(since)")
                }
                #expect(await manager.waitFor(timeout: 10) { $0 == "WATCHDOG=1" })
            }
        }
    }

    /// systemd's default stop signals the whole control group at once: the
    /// launcher's and workers' deaths by that SIGTERM are part of a normal
    /// stop and must not be logged as warnings.
    @Test func aControlGroupStopLogsNoWarning() async throws {
        try await withCollectorRepository(powaMajor: 4) { repository in
            try repository.registerServer(address: 10, frequency: 5)
            try await withCollector(on: repository) { supervisor in
                let client = try NotifyClient(cluster: repository.cluster, database: repository.database)
                let running = try await eventually(timeout: 60) {
                    try await client.workersStatus()?.values.allSatisfy { $0 == WorkerStatusText.running } == true
                }
                try #require(running, "\(supervisor.logTail())")
                let launcher = try #require(supervisor.launcherPid())
                let group = [supervisor.pid, launcher] + supervisor.workerPids()
                for pid in group { kill(pid, SIGTERM) }
                #expect(await supervisor.process.waitForExit(timeout: 20) == .exited(0))
                let warnings = supervisor.log.split(separator: "\n").filter {
                    $0.contains("WARNING") || $0.contains("ERROR")
                }
                #expect(warnings.isEmpty, "\(warnings)")
            }
        }
    }
}
