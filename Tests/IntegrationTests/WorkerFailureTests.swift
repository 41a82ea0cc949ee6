import Glibc
import PostgresClient
import PowaCore
import TestSupport
import Testing

/// A worker facing a remote that goes away, hangs, sleeps or streams a lot.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct WorkerFailureTests {
    @Test func remoteDownThenUpIsReportedThenCollectedAgain() async throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let dedicated = try #require(try await DedicatedCluster(kind: "powa4-remote", prefix: "down"))
        let remote = dedicated.cluster
        let srvid = try fixture.registerServer(port: remote.port)
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 5, port: remote.port)))
        #expect(worker.waitForStatus(timeout: 15) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning } != nil)

        try await dedicated.control("stop")
        let down = worker.waitForStatus(timeout: 15) {
            $0.status == WorkerStatusText.noRemoteConnection && !$0.snapshotRunning
        }
        #expect(down != nil, "log:\n\(worker.log)")
        #expect(down?.lastError != nil)
        // The error is in the repository for powa-web to show.
        let deadline = Monotonic.now() + 10
        var errors: [String] = []
        while Monotonic.now() < deadline, errors.isEmpty {
            errors = try fixture.errors(srvid: srvid) ?? []
            if errors.isEmpty { usleep(200_000) }
        }
        #expect(!errors.isEmpty)

        try await dedicated.control("start")
        let taken = down?.snapshotsTaken ?? 1
        let back = worker.waitForStatus(timeout: 15) { $0.snapshotsTaken > taken && !$0.snapshotRunning }
        #expect(back?.status == WorkerStatusText.running, "log:\n\(worker.log)")
        #expect(back?.lastError == nil)
        let left = try fixture.errors(srvid: srvid)
        #expect(left == nil, "errors left: \(left ?? [])")
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
        await dedicated.remove()
    }

    @Test func stopDuringASnapshotExitsQuicklyAndCommitsNothing() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.7")
        let slow = try CustomDatasource(
            fixture: fixture, srvid: srvid, remote: fixture.remote,
            remoteBody: "SELECT 1, 'x'::text FROM pg_sleep(60)")
        defer { slow.dropRemote(fixture.remote) }
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.7")))
        #expect(worker.waitForStatus(timeout: 10) { $0.snapshotRunning } != nil)
        // Let it reach the sleeping source, past the first datasources.
        usleep(1_500_000)
        let stopAt = Monotonic.now()
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 5) == .exited(0))
        #expect(Monotonic.now() - stopAt < 2, "took \(Monotonic.now() - stopAt) s")
        // Nothing of the snapshot reached the repository.
        #expect(try fixture.count("SELECT count(*) FROM powa_statements WHERE srvid = $1", [String(srvid)]) == 0)
        #expect(
            try fixture.count(
                "SELECT count(*) FROM powa_snapshot_metas WHERE srvid = $1 AND snapts = '-infinity'", [String(srvid)])
                == 1)
        #expect(try fixture.leftoverTemporaryRows(srvid: srvid) == 0)
    }

    /// A source's COPY goes in one message with what its connection owed
    /// (the remote's BEGIN for the first datasource, the last savepoint's
    /// RELEASE after it): failing there, it still costs only itself. Both
    /// savepoints are rolled back, the other datasources are collected in
    /// the same transaction, and the snapshot commits with the errors.
    @Test func failingSourcesSentWithOwedStatementsCostOnlyThemselves() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.38")
        let failing = "SELECT 1 / (random() * 0)::integer, 'x'::text"
        // The first datasource of all, whose source function is gone: its
        // COPY fails in the message that carries the remote's BEGIN.
        let first = try CustomDatasource(
            fixture: fixture, srvid: srvid, remote: fixture.remote, remoteBody: failing)
        first.dropRemote(fixture.remote)
        try fixture.query("UPDATE powa_functions SET priority = -1 WHERE module = $1", [first.querySource])
        // The last one, failing while it streams, after a RELEASE.
        let last = try CustomDatasource(
            fixture: fixture, srvid: srvid, remote: fixture.remote, remoteBody: failing)
        defer { last.dropRemote(fixture.remote) }
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.38")))
        let status = worker.waitForStatus(timeout: 20) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
        #expect(status?.snapshotsFailed == 0, "log:\n\(worker.log)")
        let errors = try fixture.errors(srvid: srvid) ?? []
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.contains { $0.contains(first.querySource) && $0.contains("does not exist") }, "\(errors)")
        #expect(errors.contains { $0.contains(last.querySource) && $0.contains("division by zero") }, "\(errors)")
        #expect(try fixture.count("SELECT count(*) FROM powa_statements WHERE srvid = $1", [String(srvid)]) > 0)
        #expect(try fixture.lastSnapshot(srvid) != nil)
        #expect(try fixture.leftoverTemporaryRows(srvid: srvid) == 0)
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }

    @Test func aSlowSourceCostsOnlyItselfThroughTheStatementTimeout() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.8")
        let slow = try CustomDatasource(
            fixture: fixture, srvid: srvid, remote: fixture.remote,
            remoteBody: "SELECT 1, 'x'::text FROM pg_sleep(60)")
        defer { slow.dropRemote(fixture.remote) }
        let worker = try WorkerProcess()
        try worker.send(
            .start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.8", snapshotTimeout: 2)))
        let status = worker.waitForStatus(timeout: 20) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
        #expect(status?.lastError?.contains("statement timeout") == true, "log:\n\(worker.log)")
        #expect(try fixture.errors(srvid: srvid)?.contains { $0.contains(slow.querySource) } == true)
        #expect(try fixture.count("SELECT count(*) FROM powa_statements WHERE srvid = $1", [String(srvid)]) > 0)
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }

    @Test func aFrozenRemoteIsCutOffAndTheNextSnapshotReconnects() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.9")
        // Sleeps once (the sequence is not rolled back), then answers at once.
        let sequence = "powa_test_once_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try fixture.remote.connect(database: "powa")
        defer { admin.close() }
        try admin.executeSimple("CREATE SEQUENCE public.\(sequence)")
        defer { _ = try? admin.executeSimple("DROP SEQUENCE IF EXISTS public.\(sequence)") }
        let slow = try CustomDatasource(
            fixture: fixture, srvid: srvid, remote: fixture.remote,
            remoteBody:
                "SELECT 1, 'x'::text FROM (SELECT CASE WHEN nextval('public.\(sequence)') = 1 THEN pg_sleep(60) END) s")
        defer { slow.dropRemote(fixture.remote) }
        let worker = try WorkerProcess()
        let config = fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.9", snapshotTimeout: 2)
        try worker.send(.start(config))

        // Freeze the backend inside the sleeping source: neither its
        // statement_timeout nor a cancel request can act on it.
        var backend: Int32?
        let deadline = Monotonic.now() + 15
        while backend == nil, Monotonic.now() < deadline {
            backend = try admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
                ["%\(slow.querySource)%"]
            ).first?[0].flatMap { Int32($0) }
            if backend == nil { usleep(100_000) }
        }
        let frozen = try #require(backend)
        kill(frozen, SIGSTOP)
        defer {
            kill(frozen, SIGCONT)
            _ = try? admin.execute("SELECT pg_terminate_backend($1)", [String(frozen)])
        }
        let cut = worker.waitForStatus(timeout: 20) { !$0.snapshotRunning && $0.lastError != nil }
        #expect(cut != nil, "log:\n\(worker.log)")
        #expect(cut?.snapshotsTaken == 0)
        kill(frozen, SIGCONT)
        // The next period reconnects and commits.
        let next = worker.waitForStatus(timeout: 15) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
        #expect(next?.status == WorkerStatusText.running, "log:\n\(worker.log)")
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }

    @Test func streamingTwoHundredThousandRowsKeepsTheWorkerSmall() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let small = try fixture.registerServer(host: "127.0.0.10")
        let large = try fixture.registerServer(host: "127.0.0.11")
        let big = try CustomDatasource(
            fixture: fixture, srvid: large, remote: fixture.remote,
            remoteBody: "SELECT g, repeat('x', 250) FROM generate_series(1, 200000) g")
        defer { big.dropRemote(fixture.remote) }

        func peakAfterOneSnapshot(srvid: Int, host: String) throws -> Int {
            let worker = try WorkerProcess()
            try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: host, debug: false)))
            let status = worker.waitForStatus(timeout: 20) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
            #expect(status?.lastError == nil, "log:\n\(worker.log)")
            let peak = ProcessMemory.kilobytes("VmHWM", pid: worker.pid) ?? 0
            try worker.send(.stop)
            _ = worker.waitForExit(timeout: 3)
            return peak
        }
        let emptyPeak = try peakAfterOneSnapshot(srvid: small, host: "127.0.0.10")
        let largePeak = try peakAfterOneSnapshot(srvid: large, host: "127.0.0.11")
        // The rows went through: about 50 MB of COPY text.
        #expect(
            try fixture.count(
                "SELECT count(*) FROM powa_snapshot_metas WHERE srvid = $1 AND snapts > '-infinity'", [String(large)])
                == 1)
        print("worker peak RSS: \(emptyPeak) kB with the usual datasources, \(largePeak) kB with 200,000 more rows")
        #expect(largePeak - emptyPeak < 5_000, "peak grew from \(emptyPeak) kB to \(largePeak) kB")
    }
}
