import Testing

@testable import PowaCore

/// The fence of a snapshot run by an instance sharing the repository with
/// others: just before `powa_take_snapshot` the ownership row must still
/// name this instance at its epoch with a live lease, or nothing commits;
/// and no error is written about a server this instance no longer owns.
@Suite struct SnapshotRunFenceTests {
    static let fence = OwnershipFence(owner: "me:1:a", epoch: 3, leaseSeconds: 30)
    static let refusal =
        "Snapshot rolled back: this instance no longer owns server \(SnapshotRunHarness.srvid)"
        + " (epoch 3 or its lease ended)"

    func fenced(ownsServer: Bool = true) -> SnapshotRunHarness {
        var harness = SnapshotRunHarness()
        harness.fence = Self.fence
        harness.ownsServer = ownsServer
        return harness
    }

    @Test func theOwnershipIsCheckedInTheSnapshotTransactionJustBeforeTakeSnapshot() {
        var harness = fenced()
        let (result, _) = harness.drive()
        var expected = SnapshotRunTests.healthyPowa4
        let take = expected.firstIndex(of: "repository: RELEASE data + SAVEPOINT powa_take_snapshot + take snapshot")!
        expected[take] = "repository: SAVEPOINT powa_take_snapshot + take snapshot"
        expected.insert("repository: RELEASE data + limit idle time to the lease + check ownership", at: take)
        #expect(harness.transcript == expected)
        #expect(result.isCommitted)
    }

    @Test func withoutAFenceNothingIsChecked() {
        var harness = SnapshotRunHarness()
        _ = harness.drive()
        #expect(harness.transcript == SnapshotRunTests.healthyPowa4)
    }

    @Test func aRefusedFenceRollsBackBothSidesAndRecordsNothing() {
        var harness = fenced(ownsServer: false)
        let (result, followUps) = harness.drive()
        #expect(
            harness.transcript.suffix(3) == [
                "repository: RELEASE data + limit idle time to the lease + check ownership", "roll back", "finish",
            ])
        #expect(!harness.transcript.contains { $0.hasSuffix("take snapshot") })
        #expect(!harness.ran(.simple(SessionSQL.commit), on: .remote))
        #expect(result == .notCommitted(reason: Self.refusal, countsAsFailure: true))
        #expect(followUps.isEmpty, "the errors are the new owner's to record")
        #expect(harness.logs(.error) == [Self.refusal])
    }

    @Test func aFailedFenceStatementEndsTheSnapshotAsAFailure() {
        var harness = fenced()
        harness.override = { _, command in
            if case .execute(.parameterized(CoordinationSQL.fence(srvid: SnapshotRunHarness.srvid, Self.fence)), _, _) =
                command
            {
                return .failed(Failures.statement)
            }
            return nil
        }
        let (result, _) = harness.drive()
        #expect(!harness.transcript.contains { $0.hasSuffix("take snapshot") })
        #expect(result == .notCommitted(reason: "Error during snapshot: \(Failures.statement)", countsAsFailure: true))
    }

    /// The errors of a failed snapshot replace the last ones only in a
    /// transaction that holds the ownership row.
    @Test func theErrorsOfAFailedSnapshotAreWrittenBehindTheFence() {
        var harness = fenced()
        harness.override = { _, command in
            command.copyName == "pg_qualstats" ? .copyFailed(.source(Failures.broken)) : nil
        }
        let (result, _) = harness.drive()
        let message = "Error during snapshot: \(Failures.broken)"
        #expect(
            harness.transcript.suffix(7) == [
                "roll back", "repository: BEGIN", "repository: limit idle time to the lease",
                "repository: check ownership", "repository: replace errors", "repository: COMMIT", "finish",
            ])
        #expect(result == .notCommitted(reason: message, countsAsFailure: true))
    }

    @Test func theErrorsOfAFailedSnapshotAreNotWrittenOnceTheServerIsAnotherInstances() {
        var harness = fenced(ownsServer: false)
        harness.override = { _, command in
            command.copyName == "pg_qualstats" ? .copyFailed(.source(Failures.broken)) : nil
        }
        let (result, _) = harness.drive()
        #expect(
            harness.transcript.suffix(6) == [
                "roll back", "repository: BEGIN", "repository: limit idle time to the lease",
                "repository: check ownership", "repository: ROLLBACK", "finish",
            ])
        #expect(!harness.transcript.contains("repository: replace errors"))
        #expect(!result.isCommitted)
        #expect(harness.logs(.debug).contains { $0.contains("no longer owns it") })
    }

    @Test func anIncompatibilityIsRecordedBehindTheFence() {
        var harness = fenced(ownsServer: false)
        harness.repository = InstalledExtensions([.init(name: "powa", schema: "public", version: "5.0.2")])
        let (result, _) = harness.drive()
        #expect(
            harness.transcript == [
                "read extensions", "repository: BEGIN", "repository: limit idle time to the lease",
                "repository: check ownership", "repository: ROLLBACK", "finish",
            ])
        #expect(!result.isCommitted)
    }
}
