import PostgresClient
import PowaCore
import TestSupport
import Testing

/// The savepoint statements a snapshot wraps each datasource in, run as the
/// worker runs them (`executeSimple`) against a real PostgreSQL: a failed
/// part is rolled back alone and the transaction goes on.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct SavepointStatementTests {
    let cluster = TestEnvironment.powa4Repository

    @Test func aFailedPartIsRolledBackAloneAndTheTransactionCommits() throws {
        let database = try cluster.createDatabase(prefix: "sp")
        defer { cluster.dropDatabase(database) }
        let connection = try cluster.connect(database: database)
        defer { connection.close() }
        try connection.executeSimple("CREATE TABLE t (v int)")
        try connection.executeSimple(SessionSQL.begin)
        try connection.execute("INSERT INTO t VALUES (1)")
        try connection.executeSimple(Savepoint.data.create + "; INSERT INTO t VALUES (2)")
        #expect(throws: PostgresError.self) { try connection.execute("SELECT 1/0") }
        try connection.executeSimple(Savepoint.data.rollback)
        #expect(connection.transactionStatus == .inTransaction)
        try connection.executeSimple(Savepoint.takeSnapshot.create + "; INSERT INTO t VALUES (3)")
        try connection.executeSimple(Savepoint.takeSnapshot.release)
        try connection.executeSimple(SessionSQL.commit)
        #expect(connection.transactionStatus == .idle)
        #expect(try connection.execute("SELECT string_agg(v::text, ',' ORDER BY v) FROM t").first?[0] == "1,3")
    }
}
