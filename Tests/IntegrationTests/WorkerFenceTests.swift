import Glibc
import PowaCore
import TestSupport
import Testing

/// The fence inside the snapshot transaction, on a real worker: it commits
/// only while `powa_collector_coord.ownership` says its instance owns the
/// server at its epoch with a live lease.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct WorkerFenceTests {
    static func createCoordinationSchema(_ fixture: PowaRepositoryFixture) throws {
        for statement in CoordinationSQL.createSchema.split(separator: ";\n") {
            try fixture.query(String(statement))
        }
    }

    @Test func aWorkerCommitsOnlyWhileItsInstanceOwnsTheServerAtItsEpoch() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.5")
        try Self.createCoordinationSchema(fixture)
        // Owned by this instance, but the lease ran out: no commit.
        try fixture.query(
            """
            INSERT INTO powa_collector_coord.ownership (srvid, owner, epoch, lease_until)
            VALUES ($1::integer, 'me', 1, clock_timestamp() - interval '1 second')
            """, [String(srvid)])
        var configuration = fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.5")
        configuration.fence = OwnershipFence(owner: "me", epoch: 1, leaseSeconds: 30)
        let worker = try WorkerProcess()
        try worker.send(.start(configuration))
        let fenced = worker.waitForStatus(timeout: 20) { $0.lastError?.contains("no longer owns server") == true }
        #expect(fenced != nil, "log:\n\(worker.log)")
        #expect(fenced?.snapshotsTaken == 0)
        #expect(try fixture.snapshotTimes(srvid: srvid).isEmpty)
        #expect(try fixture.errors(srvid: srvid) == nil, "a fenced worker writes nothing")

        // Lease renewed: the next snapshot commits.
        try fixture.query(
            """
            UPDATE powa_collector_coord.ownership SET lease_until = clock_timestamp() + interval '1 hour'
            WHERE srvid = $1::integer
            """, [String(srvid)])
        let committed = worker.waitForStatus(timeout: 20) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
        #expect(committed != nil, "log:\n\(worker.log)")
        #expect(try fixture.snapshotTimes(srvid: srvid).count == 1)

        // Claimed by another instance (new owner, new epoch): no commit.
        try fixture.query(
            """
            UPDATE powa_collector_coord.ownership SET owner = 'other', epoch = 2 WHERE srvid = $1::integer
            """, [String(srvid)])
        let fencedAgain = worker.waitForStatus(timeout: 20) { $0.lastError?.contains("no longer owns server") == true }
        #expect(fencedAgain != nil, "log:\n\(worker.log)")
        #expect(try fixture.snapshotTimes(srvid: srvid).count == 1)
        #expect(try fixture.leftoverTemporaryRows(srvid: srvid) == 0, "rolled back whole")
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }

    /// Errors recorded outside a snapshot (here: the remote refuses
    /// connections, so each try records why) are fenced too: a worker whose
    /// instance lost the server leaves the owner's errors alone, and records
    /// its own again once its instance owns the server.
    @Test func errorsOutsideASnapshotAreRecordedOnlyByTheOwner() async throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let closedPort = HTTPFetch.freePort()
        let srvid = try fixture.registerServer(host: "127.0.0.6", port: closedPort)
        try Self.createCoordinationSchema(fixture)
        try fixture.query(
            """
            INSERT INTO powa_collector_coord.ownership (srvid, owner, epoch, lease_until)
            VALUES ($1::integer, 'other', 2, clock_timestamp() + interval '1 hour')
            """, [String(srvid)])
        let ownersError = ["the owner's error"]
        try fixture.query(
            "UPDATE powa_snapshot_metas SET errors = $2::text[] WHERE srvid = $1::integer",
            [String(srvid), TextArrayLiteral.encode(ownersError)])
        var configuration = fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.6", port: closedPort)
        configuration.fence = OwnershipFence(owner: "me", epoch: 1, leaseSeconds: 30)
        let worker = try WorkerProcess()
        try worker.send(.start(configuration))
        // Its first try comes within a period; then it either leaves the
        // row alone (and says so) or overwrites it.
        let tried = try await eventually(timeout: 20, interval: 0.1) {
            let errors = try fixture.errors(srvid: srvid)
            return worker.log.contains("Not recording errors for server \(srvid)") || errors != ownersError
        }
        #expect(tried, "log:\n\(worker.log)")
        #expect(try fixture.errors(srvid: srvid) == ownersError, "log:\n\(worker.log)")

        // Its instance's own again: the next try records its error.
        try fixture.query(
            "UPDATE powa_collector_coord.ownership SET owner = 'me', epoch = 1 WHERE srvid = $1::integer",
            [String(srvid)])
        let recorded = try await eventually(timeout: 20, interval: 0.1) {
            let errors = try fixture.errors(srvid: srvid)
            return errors != nil && errors != ownersError
        }
        #expect(recorded, "log:\n\(worker.log)")
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }
}
