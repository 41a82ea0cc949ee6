import FoundationEssentials
import Glibc
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// The libpq layer against a real PostgreSQL (the PoWA 4 repository cluster
/// of the test environment), each test in a database of its own.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct PostgresConnectionTests {
    let cluster = TestEnvironment.powa4Repository

    func withDatabase(_ body: (String, PostgresConnection) throws -> Void) throws {
        let database = try cluster.createDatabase(prefix: "pq")
        defer { cluster.dropDatabase(database) }
        let connection = try cluster.connect(database: database)
        defer { connection.close() }
        try body(database, connection)
    }

    @Test func parametersAndNullsAreKeptApart() throws {
        try withDatabase { (_, connection) throws in
            let result = try connection.execute(
                "SELECT $1::text AS a, $2::text AS b, $3::int AS c, $4::text[] AS d, $5::float8 AS e, $6::bool AS f",
                [nil, "", "42", #"{x,NULL,"y z"}"#, "-Infinity", "t"])
            let row = try #require(result.first)
            #expect(row["a"] == nil)
            #expect(row["b"] == "")
            #expect(row["c"] == "42")
            #expect(row["d"] == #"{x,NULL,"y z"}"#)
            #expect(row["e"] == "-Infinity")
            #expect(row["f"] == "t")
            #expect(result.columns == ["a", "b", "c", "d", "e", "f"])
            #expect(row.values == [nil, "", "42", #"{x,NULL,"y z"}"#, "-Infinity", "t"])
        }
    }

    @Test func aPreparedStatementRunsWithNewValuesEachTime() throws {
        try withDatabase { (_, connection) throws in
            try connection.prepare("add_one", "SELECT $1::int + 1 AS n, $2::text AS t")
            #expect(try connection.executePrepared("add_one", ["41", "a"]).first?["n"] == "42")
            #expect(try connection.executePrepared("add_one", ["-1", nil]).first?["t"] == nil)
            let duplicate = #expect(throws: PostgresError.self) { try connection.prepare("add_one", "SELECT 1") }
            #expect(duplicate?.sqlState == "42P05")
            let unknown = #expect(throws: PostgresError.self) { try connection.executePrepared("nope", []) }
            #expect(unknown?.sqlState == "26000")
            #expect(try connection.execute("SELECT 1").first?[0] == "1", "the connection stays usable")
        }
    }

    @Test func commandStatusAndAffectedRows() throws {
        try withDatabase { (_, connection) throws in
            try connection.executeSimple("CREATE TABLE t (v text)")
            let insert = try connection.execute(
                "INSERT INTO t SELECT g::text FROM generate_series(1, $1::int) g", ["3"])
            #expect(insert.commandStatus == "INSERT 0 3")
            #expect(insert.affectedRows == 3)
            let update = try connection.execute("UPDATE t SET v = v || $1", ["'; DROP TABLE t; --"])
            #expect(update.affectedRows == 3)
            let values = try connection.execute("SELECT v FROM t ORDER BY v").rows.map { $0[0] }
            #expect(values == ["1'; DROP TABLE t; --", "2'; DROP TABLE t; --", "3'; DROP TABLE t; --"])
        }
    }

    @Test func statementErrorsCarrySQLStateAndKeepTheConnection() throws {
        try withDatabase { (_, connection) throws in
            do throws(PostgresError) {
                try connection.executeSimple("SELECT * FROM no_such_table")
                Issue.record("expected an error")
            } catch {
                #expect(error.sqlState == "42P01")
                #expect(error.kind == .statementFailed)
                #expect(error.message.contains("no_such_table"))
                #expect(!error.isConnectionBroken)
            }
            do throws(PostgresError) {
                try connection.executeSimple(
                    "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'd', HINT = 'h'; END $$")
            } catch {
                #expect(error.sqlState == "P0001")
                #expect(error.detail == "d")
                #expect(error.hint == "h")
            }
            #expect(try connection.execute("SELECT 1").first?[0] == "1")
        }
    }

    @Test func escapingHandlesQuotesSpacesAndNonASCII() throws {
        try withDatabase { (_, connection) throws in
            for name in ["with \"quotes\"", "with space", "Ünïcødé_表", "MiXeD", "semi;colon--"] {
                let identifier = try connection.escapeIdentifier(name)
                try connection.executeSimple("CREATE TABLE \(identifier) (v text)")
                let literal = try connection.escapeLiteral("it's \\ \(name)")
                try connection.executeSimple("INSERT INTO \(identifier) VALUES (\(literal))")
                let stored = try connection.execute(
                    "SELECT v, $1::regclass IS NOT NULL FROM \(identifier)", [identifier]
                ).first
                #expect(stored?[0] == "it's \\ \(name)")
                let listed = try connection.execute(
                    "SELECT count(*) FROM pg_class WHERE relname = $1", [name]
                ).first?[0]
                #expect(listed == "1")
            }
        }
    }

    @Test func connectsWithSeparateFieldsAndAnAwkwardPassword() throws {
        let parameters = ConnectionParameters.fields(
            host: cluster.host, port: cluster.port, user: TestEnvironment.passwordRole,
            password: TestEnvironment.password, dbname: "postgres")
        let connection = try PostgresConnection.connect(parameters)
        defer { connection.close() }
        #expect(try connection.execute("SELECT current_user").first?[0] == TestEnvironment.passwordRole)

        let wrong = ConnectionParameters.fields(
            host: cluster.host, port: cluster.port, user: TestEnvironment.passwordRole,
            password: TestEnvironment.password + "x", dbname: "postgres")
        do throws(PostgresError) {
            _ = try PostgresConnection.connect(wrong)
            Issue.record("a wrong password must fail")
        } catch {
            #expect(error.kind == .connectionFailed)
            #expect(!error.message.contains(TestEnvironment.password + "x"))
        }
    }

    @Test func connectsWithAURIAndSetsTheApplicationName() throws {
        let connection = try PostgresConnection.connect(
            .conninfo(cluster.uri(database: "postgres")), applicationName: "PoWA collector - test")
        defer { connection.close() }
        #expect(try connection.execute("SHOW application_name").first?[0] == "PoWA collector - test")
        #expect(connection.serverVersion >= 150000)
    }

    @Test func refusedConnectionIsAConnectionError() throws {
        do throws(PostgresError) {
            _ = try PostgresConnection.connect(
                .fields(host: "127.0.0.1", port: 1, user: "x", password: nil, dbname: "x"), connectTimeout: 2)
            Issue.record("expected a failure")
        } catch {
            #expect(error.kind == .connectionFailed)
            #expect(error.isConnectionBroken)
        }
    }

    @Test func streamsOneHundredThousandRowsWithFlatMemory() throws {
        let source = try cluster.createDatabase(prefix: "src")
        let target = try cluster.createDatabase(prefix: "dst")
        defer {
            cluster.dropDatabase(source)
            cluster.dropDatabase(target)
        }
        let from = try cluster.connect(database: source)
        let to = try cluster.connect(database: target)
        defer {
            from.close()
            to.close()
        }
        try to.executeSimple("CREATE TABLE sink (id int, filler text)")
        // About 100 MB of COPY text: buffering it would show in the peak RSS.
        let sourceSQL = "COPY (SELECT g, repeat('x', 1000) FROM generate_series(1, 100000) g) TO STDOUT"
        let before = ProcessMemory.kilobytes("VmHWM") ?? 0
        let outcome = try to.copy(from: from, sourceSQL: sourceSQL, targetSQL: "COPY sink FROM STDIN")
        let after = ProcessMemory.kilobytes("VmHWM") ?? 0
        print(
            "COPY of \(outcome.bytes) bytes in \(outcome.rows) rows: peak RSS of the test process \(before) kB before, \(after) kB after"
        )
        #expect(outcome.rows == 100_000)
        #expect(outcome.bytes > 100_000_000)
        #expect(try to.execute("SELECT count(*), sum(id) FROM sink").first?.values == ["100000", "5000050000"])
        // Peak memory of the whole test process grew by far less than the data.
        #expect(after - before < 30_000, "peak RSS grew by \(after - before) kB")
    }

    /// Rows are regrouped into chunks on the way: rows smaller than a chunk,
    /// larger than one, and exactly at the boundaries must all arrive whole
    /// and in order.
    @Test func copyKeepsEveryByteOfRowsOfAnySize() throws {
        try withDatabase { (_, connection) throws in
            let other = try cluster.connect(database: "postgres")
            defer { other.close() }
            try connection.executeSimple("CREATE TABLE sink (id int, filler text)")
            // Sizes around the 64 KiB chunk: tiny, just under, at, just over, several chunks.
            let sizes = "ARRAY[1, 65520, 65528, 65529, 65536, 70000, 200000, 3, 131072, 10]"
            let rows =
                "SELECT g, repeat(chr(65 + g % 26), ((\(sizes))[1 + g % 10]) - 1 - length(g::text) - 1) AS filler"
                + " FROM generate_series(1, 300) g"
            let outcome = try connection.copy(
                from: other, sourceSQL: "COPY (\(rows)) TO STDOUT", targetSQL: "COPY sink FROM STDIN")
            let expected = try other.execute(
                "SELECT count(*), sum(octet_length(filler)), md5(string_agg(g::text || filler, ',' ORDER BY g))"
                    + " FROM (\(rows)) AS r"
            ).first?.values
            let copied = try connection.execute(
                "SELECT count(*), sum(octet_length(filler)), md5(string_agg(id::text || filler, ',' ORDER BY id))"
                    + " FROM sink"
            ).first?.values
            #expect(outcome.rows == 300)
            #expect(copied == expected)
        }
    }

    /// The reader's raised SO_RCVLOWAT must never outlive its own poll:
    /// libpq's waits have no timeout, and a small answer after a big stream
    /// would hang below the mark. Here the NOTICE makes the backend flush the
    /// end of the COPY at once, and the statement's own end comes 0.3 s later,
    /// alone. (Before the fix this hung every time; the soak had caught it.)
    /// A watchdog shuts the socket down after 10 s so that a regression fails
    /// instead of hanging the suite.
    @Test func aSmallAnswerAfterABigStreamIsNotLeftWaiting() throws {
        try withDatabase { (_, connection) throws in
            let other = try cluster.connect(database: "postgres")
            try connection.executeSimple("CREATE TABLE sink (id int, filler text, pause text)")
            let done = Mutex(false)
            let socket = other.socket
            DelayedAction(milliseconds: 10_000) {
                done.withLock { finished in if !finished { _ = shutdown(socket, Int32(SHUT_RDWR)) } }
            }.start()
            defer {
                done.withLock { $0 = true }
                other.close()
            }
            let started = Date.now
            let outcome = try connection.copy(
                from: other,
                // Large rows come fast enough to fill each batch, so the
                // stream ends while the reader waits on a raised mark.
                sourceSQL: "COPY (SELECT g, repeat('x', 8000), NULL FROM generate_series(1, 3000) g) TO STDOUT;"
                    + " DO $$BEGIN RAISE NOTICE 'flushes the COPY'; PERFORM pg_catalog.pg_sleep(0.3); END$$",
                targetSQL: "COPY sink FROM STDIN")
            #expect(outcome.rows == 3_000)
            #expect(Date.now.timeIntervalSince(started) < 9, "the copy waited for the watchdog")
            #expect(try other.execute("SELECT 1").first?[0] == "1")
        }
    }

    @Test func copyFailureOnEitherSideLeavesBothConnectionsUsable() throws {
        try withDatabase { (_, connection) throws in
            let other = try cluster.connect(database: "postgres")
            defer { other.close() }
            try connection.executeSimple("CREATE TABLE sink (id int)")
            // Source fails mid-stream: nothing is kept on the target.
            do throws(CopyError) {
                try connection.copy(
                    from: other,
                    sourceSQL:
                        "COPY (SELECT CASE WHEN g < 5000 THEN g ELSE 1/(g-g) END FROM generate_series(1, 10000) g) TO STDOUT",
                    targetSQL: "COPY sink FROM STDIN")
                Issue.record("expected a source failure")
            } catch {
                guard case .source(let underlying) = error else {
                    Issue.record("wrong side: \(error)")
                    return
                }
                #expect(underlying.sqlState == "22012")
            }
            #expect(try connection.execute("SELECT count(*) FROM sink").first?[0] == "0")
            // Target rejects the data: reported as a target error.
            do throws(CopyError) {
                try connection.copy(
                    from: other, sourceSQL: "COPY (SELECT 'not a number') TO STDOUT", targetSQL: "COPY sink FROM STDIN")
                Issue.record("expected a target failure")
            } catch {
                guard case .target(let underlying) = error else {
                    Issue.record("wrong side: \(error)")
                    return
                }
                #expect(underlying.sqlState == "22P02")
            }
            // Missing target table: the source query never runs.
            try other.executeSimple("CREATE TEMPORARY TABLE ran (v int)")
            do throws(CopyError) {
                try connection.copy(
                    from: other, sourceSQL: "INSERT INTO ran VALUES (1); COPY (SELECT 1) TO STDOUT",
                    targetSQL: "COPY nowhere FROM STDIN")
                Issue.record("expected the target to refuse")
            } catch {
                guard case .targetRefused(let underlying) = error else {
                    Issue.record("wrong case: \(error)")
                    return
                }
                #expect(underlying.sqlState == "42P01")
            }
            #expect(try other.execute("SELECT count(*) FROM ran").first?[0] == "0")
            // Statements before the COPY share its round trip, and its fate.
            try connection.executeSimple("BEGIN")
            try other.executeSimple("BEGIN")
            try connection.copy(
                from: other, sourceSQL: "SAVEPOINT s; COPY (SELECT 7) TO STDOUT",
                targetSQL: "SAVEPOINT t; COPY sink FROM STDIN")
            try connection.executeSimple("RELEASE t")
            try other.executeSimple("RELEASE s")
            #expect(throws: CopyError.self) {
                try connection.copy(
                    from: other, sourceSQL: "SAVEPOINT s; COPY (SELECT 1/0) TO STDOUT",
                    targetSQL: "SAVEPOINT t; COPY sink FROM STDIN")
            }
            try connection.executeSimple("ROLLBACK TO t")
            try other.executeSimple("ROLLBACK TO s")
            try connection.executeSimple("COMMIT")
            try other.executeSimple("COMMIT")
            #expect(try connection.execute("SELECT string_agg(id::text, ',') FROM sink").first?[0] == "7")
            #expect(try connection.execute("SELECT 1").first?[0] == "1")
            #expect(try other.execute("SELECT 2").first?[0] == "2")
            #expect(connection.transactionStatus == .idle)
            #expect(other.transactionStatus == .idle)
        }
    }

    @Test func notificationsWithLargePayloadsAndSenderPID() throws {
        try withDatabase { (database, listener) throws in
            try listener.listen("chan with space")
            let sender = try cluster.connect(database: database)
            defer { sender.close() }
            let payload = String(repeating: "é", count: 3000) + " ' \" \\ ;"
            try sender.notify("chan with space", payload: payload)
            try sender.notify("other", payload: "ignored")
            var received: [PostgresNotification] = []
            for _ in 0..<50 where received.isEmpty {
                var entry = pollfd(fd: listener.socket, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, 100)
                received += try listener.drainNotifications()
            }
            #expect(received.count == 1)
            #expect(received.first?.channel == "chan with space")
            #expect(received.first?.payload == payload)
            #expect(received.first?.senderPID == sender.backendPID)
        }
    }

    @Test func cancelInterruptsASleepingStatement() throws {
        try withDatabase { (_, connection) throws in
            let canceller = try connection.makeCanceller()
            let thread = cancelAfter(canceller: canceller, milliseconds: 200)
            thread.start()
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            do throws(PostgresError) {
                try connection.executeSimple("SELECT pg_sleep(30)")
                Issue.record("expected a cancellation")
            } catch {
                #expect(error.isQueryCanceled)
                #expect(!error.isConnectionBroken)
            }
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &end)
            #expect(end.tv_sec - start.tv_sec < 10)
            #expect(try connection.execute("SELECT 1").first?[0] == "1")
        }
    }

    @Test func serverGoingAwayMidStatementIsAConnectionLoss() throws {
        try withDatabase { (database, connection) throws in
            let admin = try cluster.connect(database: database)
            defer { admin.close() }
            let pid = connection.backendPID
            let killer = terminateAfter(cluster: cluster, database: database, pid: pid, milliseconds: 200)
            killer.start()
            do throws(PostgresError) {
                try connection.executeSimple("SELECT pg_sleep(30)")
                Issue.record("expected the connection to break")
            } catch {
                #expect(error.isConnectionBroken, "\(error)")
            }
            #expect(!connection.isHealthy)
            #expect(throws: PostgresError.self) { try connection.execute("SELECT 1") }
        }
    }

    @Test func noticesDoNotReachStderrButCanBeObserved() throws {
        try withDatabase { (_, connection) throws in
            let collected = NoticeCollector()
            connection.setNoticeHandler { collected.append($0) }
            try connection.executeSimple("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
            #expect(collected.notices.map(\.message) == ["hello 42"])
            #expect(collected.notices.first?.severity == "NOTICE")
        }
    }
}

final class NoticeCollector: @unchecked Sendable {
    var notices: [PostgresNotice] = []
    func append(_ notice: PostgresNotice) { notices.append(notice) }
}
