import PostgresClient
import TestSupport
import Testing

/// Statements sent ahead of another in the same round trip, against a real
/// PostgreSQL: they run in order in the same transaction, and a failure
/// says whether it was one of them (and which) or the caller's own
/// statement, which is what a snapshot's cost of a failure depends on.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct PreambleTests {
    let cluster = TestEnvironment.powa4Repository

    func withDatabase(_ body: (PostgresConnection) throws -> Void) throws {
        let database = try cluster.createDatabase(prefix: "pre")
        defer { cluster.dropDatabase(database) }
        let connection = try cluster.connect(database: database)
        defer { connection.close() }
        try connection.executeSimple("CREATE TABLE t (v int)")
        try body(connection)
    }

    func values(_ connection: PostgresConnection) throws -> String? {
        try connection.execute("SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM t").first?[0]
    }

    @Test(arguments: [false, true])
    func thePreambleRunsFirstAndTheResultIsTheStatementsOwn(withParameters: Bool) throws {
        try withDatabase { connection in
            try connection.executeSimple("BEGIN")
            let preamble = [
                PreambleStatement("INSERT INTO t VALUES (1)"),
                withParameters
                    ? PreambleStatement("INSERT INTO t VALUES ($1::int)", parameters: ["2"])
                    : PreambleStatement("INSERT INTO t VALUES (2)"),
            ]
            let result =
                withParameters
                ? try connection.execute("SELECT count(*) FROM t WHERE v > $1::int", ["0"], after: preamble)
                : try connection.executeSimple("SELECT count(*) FROM t", after: preamble)
            #expect(result.first?[0] == "2")
            #expect(connection.transactionStatus == .inTransaction)
            try connection.executeSimple("COMMIT")
            #expect(try values(connection) == "1,2")
        }
    }

    /// A failed statement of the preamble is told apart, with its place;
    /// nothing after it runs.
    @Test(arguments: [false, true])
    func aFailedPreambleStatementIsToldApartAndNothingAfterItRuns(withParameters: Bool) throws {
        try withDatabase { connection in
            try connection.executeSimple("BEGIN")
            let preamble = [
                PreambleStatement("SAVEPOINT a"), PreambleStatement("RELEASE missing"),
                PreambleStatement("INSERT INTO t VALUES (1)"),
            ]
            do throws(PreambleError) {
                if withParameters {
                    try connection.execute("INSERT INTO t VALUES ($1::int)", ["2"], after: preamble)
                } else {
                    try connection.executeSimple("INSERT INTO t VALUES (2)", after: preamble)
                }
                Issue.record("expected a failure")
            } catch {
                guard case .preamble(let index, let failure) = error else {
                    Issue.record("not the preamble's: \(error)")
                    return
                }
                #expect(index == 1)
                #expect(failure.sqlState == "3B001")
            }
            #expect(connection.transactionStatus == .inFailedTransaction)
            try connection.executeSimple("ROLLBACK TO a")
            try connection.executeSimple("COMMIT")
            #expect(try values(connection) == "")
        }
    }

    @Test(arguments: [false, true])
    func theStatementsOwnFailureIsItsOwnAfterThePreambleRan(withParameters: Bool) throws {
        try withDatabase { connection in
            try connection.executeSimple("BEGIN")
            let preamble = [PreambleStatement("INSERT INTO t VALUES (1)"), PreambleStatement("SAVEPOINT a")]
            do throws(PreambleError) {
                if withParameters {
                    try connection.execute("SELECT 1 / $1::int", ["0"], after: preamble)
                } else {
                    try connection.executeSimple("SELECT 1 / 0", after: preamble)
                }
                Issue.record("expected a failure")
            } catch {
                guard case .statement(let failure) = error else {
                    Issue.record("not the statement's: \(error)")
                    return
                }
                #expect(failure.sqlState == "22012")
            }
            // The savepoint of the preamble exists: the failure costs only
            // what came after it.
            try connection.executeSimple("ROLLBACK TO a")
            try connection.executeSimple("COMMIT")
            #expect(try values(connection) == "1")
            // The connection takes the next statement, in or out of a pipeline.
            #expect(try connection.execute("SELECT $1::text", ["ok"], after: []).first?[0] == "ok")
        }
    }

    /// A COPY's preambles go in its message: a failure there is the
    /// preamble's, and a failed target preamble leaves the source untouched.
    @Test func aCopysPreamblesRunInItsMessageAndTheirFailureIsToldApart() throws {
        try withDatabase { connection in
            let source = try cluster.connect(database: "postgres")
            defer { source.close() }
            try connection.executeSimple("BEGIN")
            try source.executeSimple("BEGIN")
            let outcome = try connection.copy(
                from: source, sourceSQL: "SAVEPOINT s; COPY (SELECT g FROM generate_series(1, 3) g) TO STDOUT",
                targetSQL: "SAVEPOINT d; COPY t FROM STDIN", sourcePreamble: ["SET LOCAL work_mem = '8MB'"],
                targetPreamble: ["INSERT INTO t VALUES (10)"])
            #expect(outcome.rows == 3)
            #expect(try source.execute("SHOW work_mem").first?[0] == "8MB")
            // A failed source preamble: the target's COPY is ended, its
            // preamble ran.
            do throws(CopyError) {
                try connection.copy(
                    from: source, sourceSQL: "COPY (SELECT 1) TO STDOUT", targetSQL: "SAVEPOINT e; COPY t FROM STDIN",
                    sourcePreamble: ["RELEASE missing"])
                Issue.record("expected a failure")
            } catch {
                guard case .preamble(let failure) = error else {
                    Issue.record("not the preamble's: \(error)")
                    return
                }
                #expect(failure.sqlState == "3B001")
            }
            #expect(source.transactionStatus == .inFailedTransaction)
            try connection.executeSimple("ROLLBACK TO e")
            // A failed target preamble: nothing is sent to the source.
            try source.executeSimple("ROLLBACK TO s")
            do throws(CopyError) {
                try connection.copy(
                    from: source, sourceSQL: "COPY (SELECT 1) TO STDOUT", targetSQL: "COPY t FROM STDIN",
                    sourcePreamble: ["SET LOCAL work_mem = '16MB'"], targetPreamble: ["RELEASE missing"])
                Issue.record("expected a failure")
            } catch {
                guard case .preamble = error else {
                    Issue.record("not the preamble's: \(error)")
                    return
                }
            }
            #expect(try source.execute("SHOW work_mem").first?[0] == "8MB")
            try connection.executeSimple("ROLLBACK TO d")
            try connection.executeSimple("COMMIT")
            #expect(try values(connection) == "10")
        }
    }

    /// A COPY refused after its preamble ran is the COPY's own failure
    /// (the source's or the target's), not the preamble's.
    @Test func aRefusedCopyAfterItsPreambleIsTheCopysOwnFailure() throws {
        try withDatabase { connection in
            let source = try cluster.connect(database: "postgres")
            defer { source.close() }
            try connection.executeSimple("BEGIN")
            try source.executeSimple("BEGIN")
            do throws(CopyError) {
                try connection.copy(
                    from: source, sourceSQL: "SAVEPOINT s; COPY (SELECT * FROM missing) TO STDOUT",
                    targetSQL: "SAVEPOINT d; COPY t FROM STDIN", sourcePreamble: ["SAVEPOINT a"],
                    targetPreamble: ["INSERT INTO t VALUES (1)"])
                Issue.record("expected a failure")
            } catch {
                guard case .source(let failure) = error else {
                    Issue.record("not the source's: \(error)")
                    return
                }
                #expect(failure.sqlState == "42P01")
            }
            try source.executeSimple("ROLLBACK TO s")
            do throws(CopyError) {
                try connection.copy(
                    from: source, sourceSQL: "COPY (SELECT 1) TO STDOUT", targetSQL: "COPY missing FROM STDIN",
                    targetPreamble: ["ROLLBACK TO d"])
                Issue.record("expected a failure")
            } catch {
                guard case .targetRefused(let failure) = error else {
                    Issue.record("not the target's: \(error)")
                    return
                }
                #expect(failure.sqlState == "42P01")
            }
            try connection.executeSimple("ROLLBACK TO d")
            try connection.executeSimple("COMMIT")
            #expect(try values(connection) == "1")
        }
    }
}
