import Glibc
import PowaCore
import Synchronization
import TestSupport
import Testing

/// What a worker does with bad input on stdin, signals, and secrets.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct WorkerInputTests {
    /// A configuration whose servers cannot be reached, for tests that need
    /// a running worker but no database.
    static let unreachable = WorkerConfiguration(
        srvid: 1, name: "127.0.0.1:1", frequency: 300,
        server: ServerConnectionParameters(host: "127.0.0.1", port: 1, user: "nobody", password: nil, dbname: "powa"),
        repositoryDSN: "postgresql://nobody@127.0.0.1:1/powa", debug: false)

    @Test(arguments: [
        ("not json at all\n", "Invalid start line"),
        (#"{"type":"start"}"# + "\n", "Invalid start line"),
        (
            #"{"type":"start","config":{"srvid":"one","name":"x","frequency":5,"server":{"host":"h","port":1,"user":"u","dbname":"d"},"repository_dsn":"x","debug":false}}"#
                + "\n", "srvid"
        ),
        (
            #"{"type":"start","config":{"srvid":1,"name":"x","frequency":0,"server":{"host":"h","port":1,"user":"u","dbname":"d"},"repository_dsn":"x","debug":false}}"#
                + "\n", "frequency must be positive"
        ),
        (#"{"type":"force_snapshot"}"# + "\n", "Expected a start line first"),
        ("", "stdin closed before a start line"),
    ])
    func aBadStartLineIsAClearErrorAndExit2(input: String, message: String) throws {
        let worker = try WorkerProcess()
        try worker.sendRaw(Array(input.utf8))
        worker.closeStdin()
        #expect(worker.waitForExit(timeout: 5) == .exited(2))
        #expect(worker.log.contains(message), "log:\n\(worker.log)")
        #expect(worker.log.contains("ERROR"))
    }

    @Test func malformedLinesLaterAreLoggedAndSkipped() throws {
        let worker = try WorkerProcess()
        try worker.send(.start(Self.unreachable))
        #expect(worker.waitForStatus(timeout: 5) { $0.status == WorkerStatusText.noRemoteConnection } != nil)
        try worker.sendRaw(Array("garbage\n{\"type\":\"explode\"}\n{\"type\":\"reload\"}\n[1,2]\n\n".utf8))
        try worker.sendRaw([UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20) + [UInt8(ascii: "\n")])
        try worker.sendRaw(Array("\u{00e9}\u{1F600}\"'\\\n".utf8) + [0xff, 0xfe, UInt8(ascii: "\n")])
        // Idle, it heartbeats every 60 s: still running is what it shows.
        #expect(worker.waitForExit(timeout: 3.5) == nil, "the worker must keep running")
        let log = worker.log
        #expect(log.contains("Ignored a malformed line"))
        #expect(log.contains("unknown message type"))
        #expect(log.contains("too long"))
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 2) == .exited(0))
    }

    @Test func workersYieldTheProcessorToTheSupervisor() throws {
        let worker = try WorkerProcess()
        try worker.send(.start(Self.unreachable))
        #expect(worker.waitForStatus(timeout: 5) { _ in true } != nil)
        let own = try #require(ProcessTable.entry(getpid())).nice
        #expect(ProcessTable.entry(worker.pid)?.nice == min(own + 5, 19))
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }

    /// Started without `--parent-pid`, a worker does not die with the
    /// thread that started it: the kernel's parent-death signal follows
    /// that thread, not the process, and a test runner's threads come and go.
    @Test func aWorkerOutlivesTheThreadThatStartedIt() throws {
        final class Handoff: @unchecked Sendable { var worker: WorkerProcess? }
        let handoff = Handoff()
        let started = Mutex(false)
        DelayedAction(milliseconds: 0) {
            handoff.worker = try? WorkerProcess()
            started.withLock { $0 = true }
            usleep(300_000)  // long enough for the worker to be up, then the thread ends
        }.start()
        let deadline = Monotonic.now() + 5
        while !started.withLock({ $0 }), Monotonic.now() < deadline { usleep(10_000) }
        let worker = try #require(started.withLock { $0 } ? handoff.worker : nil)
        try worker.send(.start(Self.unreachable))
        usleep(800_000)  // the starting thread has ended by now
        #expect(worker.waitForExit(timeout: 0.5) == nil, "log:\n\(worker.log)")
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }

    /// The harness itself: writing to a worker that died throws (EPIPE)
    /// instead of killing the test runner with SIGPIPE.
    @Test func writingToADeadWorkerFailsTheWriteOnly() throws {
        let worker = try WorkerProcess()
        kill(worker.pid, SIGKILL)
        #expect(worker.waitForExit(timeout: 3) == .signaled(SIGKILL))
        #expect(throws: (any Error).self) { try worker.send(.stop) }
    }

    @Test func endOfStdinStopsTheWorker() throws {
        let worker = try WorkerProcess()
        try worker.send(.start(Self.unreachable))
        #expect(worker.waitForStatus(timeout: 5) { _ in true } != nil)
        let start = Monotonic.now()
        worker.closeStdin()
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
        #expect(Monotonic.now() - start < 2)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func terminationSignalsStopTheWorkerCleanly(signal: Int32) throws {
        let worker = try WorkerProcess()
        try worker.send(.start(Self.unreachable))
        #expect(worker.waitForStatus(timeout: 5) { _ in true } != nil)
        let start = Monotonic.now()
        kill(worker.pid, signal)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
        #expect(Monotonic.now() - start < 2)
        #expect(worker.log.contains("stopped"))
    }

    @Test func passwordsNeverReachArgvEnvironmentLogsOrStatus() throws {
        let secret = "s3cr3t-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = TestEnvironment.powa4Remote
        var config = Self.unreachable
        // A real server refusing this password, so that libpq's error is
        // logged and reported.
        config.server = ServerConnectionParameters(
            host: cluster.host, port: cluster.port, user: TestEnvironment.passwordRole, password: secret, dbname: "powa"
        )
        config.repositoryDSN = "postgresql://\(TestEnvironment.passwordRole):\(secret)@127.0.0.1:1/powa"
        config.debug = true
        let worker = try WorkerProcess()
        try worker.send(.start(config))
        let status = worker.waitForStatus(timeout: 10) { $0.lastError != nil }
        #expect(status?.status == WorkerStatusText.noRemoteConnection)
        worker.drain(for: 0.5)
        #expect(!worker.log.isEmpty)
        #expect(!worker.log.contains(secret), "log:\n\(worker.log)")
        #expect(worker.log.contains("password authentication failed"))
        #expect(!worker.statuses.contains { ($0.lastError ?? "").contains(secret) })
        #expect(ProcessTable.commandLine(worker.pid).contains("powa-collector-worker"))
        #expect(!ProcessTable.commandLine(worker.pid).contains(secret))
        #expect(!ProcessTable.environment(worker.pid).contains(secret))
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }
}
