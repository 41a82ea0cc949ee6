import Testing

@testable import PowaCore

/// A worker's write outside a snapshot, fenced: nothing is written about a
/// server this instance no longer owns, and a failure leaves no
/// transaction open.
@Suite struct FencedWriteTests {
    static let fence = OwnershipFence(owner: "me:1:a", epoch: 2, leaseSeconds: 30)
    static let statement = SQLStatement("UPDATE powa_snapshot_metas SET errors = $1", parameters: ["{}"])
    static let failure = StatementFailure(
        sqlState: "40001", message: "could not serialize access", connectionBroken: false)

    /// Runs the write, answering statement number `index` with `answer`
    /// (every other succeeds with one row); returns the statements and the outcome.
    func drive(
        fence: OwnershipFence?,
        answering answer: (Int, SnapshotSQL) -> Result<[[String?]], StatementFailure>? = {
            _, _ in nil
        }
    ) -> (statements: [SnapshotSQL], outcome: FencedWrite.Outcome) {
        var write = FencedWrite(Self.statement, srvid: 7, fence: fence)
        var step = write.start()
        var statements: [SnapshotSQL] = []
        while case .execute(let sql) = step {
            statements.append(sql)
            precondition(statements.count < 20, "the write does not end")
            step = write.next(answer(statements.count - 1, sql) ?? .success([["1"]]))
        }
        guard case .finished(let outcome) = step else { preconditionFailure() }
        return (statements, outcome)
    }

    @Test func withoutAFenceTheStatementJustRuns() {
        let (statements, outcome) = drive(fence: nil)
        #expect(statements == [.parameterized(Self.statement)])
        #expect(outcome == .written)
        let (_, failed) = drive(fence: nil) { _, _ in .failure(Self.failure) }
        #expect(failed == .failed(Self.failure))
    }

    @Test func withAFenceTheStatementRunsInATransactionThatHoldsTheOwnershipRow() {
        let (statements, outcome) = drive(fence: Self.fence)
        #expect(
            statements == [
                .simple(SessionSQL.begin), .parameterized(CoordinationSQL.idleInTransactionTimeout(Self.fence)),
                .parameterized(CoordinationSQL.fence(srvid: 7, Self.fence)), .parameterized(Self.statement),
                .simple(SessionSQL.commit),
            ])
        #expect(outcome == .written)
    }

    @Test func anotherOwnerMeansNothingIsWritten() {
        let (statements, outcome) = drive(fence: Self.fence) { index, _ in index == 2 ? .success([]) : nil }
        #expect(statements.last == .simple(SessionSQL.rollback))
        #expect(!statements.contains(.parameterized(Self.statement)))
        #expect(outcome == .notOwner)
    }

    /// Whichever statement fails, the transaction is rolled back (its own
    /// failure changes nothing) and the failure is the outcome.
    @Test(arguments: 0..<5)
    func aFailureAtAnyStepRollsBack(index: Int) {
        let (statements, outcome) = drive(fence: Self.fence) { i, sql in
            if i == index { return .failure(Self.failure) }
            return sql == .simple(SessionSQL.rollback) ? .failure(Self.failure) : nil
        }
        #expect(statements.count == index + 2)
        #expect(statements.last == .simple(SessionSQL.rollback))
        #expect(outcome == .failed(Self.failure))
    }
}
