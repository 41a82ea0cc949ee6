import PostgresClient
import TestSupport
import Testing

/// Copies that share one message on either side (`CopyMessage`), against
/// a real PostgreSQL: each later copy's COPY starts without a message of its
/// own, a failure anywhere ends both messages with both connections ready
/// for the next statement, and a message left half-read can be given up.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct CopyChainTests {
    let cluster = TestEnvironment.powa4Repository

    /// A target database with tables `a`, `b` and `c`, and a source.
    func withConnections(_ body: (_ target: PostgresConnection, _ source: PostgresConnection) throws -> Void) throws {
        let database = try cluster.createDatabase(prefix: "chain")
        defer { cluster.dropDatabase(database) }
        let target = try cluster.connect(database: database)
        defer { target.close() }
        let source = try cluster.connect(database: "postgres")
        defer { source.close() }
        try target.executeSimple("CREATE TABLE a (v int); CREATE TABLE b (v int); CREATE TABLE c (v int)")
        try target.executeSimple("BEGIN")
        try source.executeSimple("BEGIN")
        try body(target, source)
    }

    static func source(_ values: String) -> String {
        "COPY (SELECT unnest('{\(values)}'::int[])) TO STDOUT"
    }

    static func target(_ table: String) -> String { "SAVEPOINT d; COPY \(table) FROM STDIN" }

    /// The first copy's message, holding the next copies' statements.
    static func first(following tables: [String]) -> CopyMessage {
        CopyMessage(following: tables.flatMap { ["RELEASE d", target($0)] }, continues: !tables.isEmpty)
    }

    static func later(continues: Bool) -> CopyMessage {
        CopyMessage(sent: true, continues: continues)
    }

    /// Which side a `CopyError` blames, to compare.
    enum Side: Equatable { case source, targetRefused, target, preamble }

    /// How `body` failed; an issue when it did not.
    static func failure(_ body: () throws(CopyError) -> Void) -> (side: Side, sqlState: String?)? {
        do throws(CopyError) {
            try body()
        } catch {
            let side: Side =
                switch error {
                case .source: .source
                case .targetRefused: .targetRefused
                case .target: .target
                case .preamble: .preamble
                }
            return (side, error.underlying.sqlState)
        }
        Issue.record("expected a failure")
        return nil
    }

    func contents(_ connection: PostgresConnection) throws -> [String?] {
        try ["a", "b", "c"].map {
            try connection.execute("SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM \($0)").first?[0]
        }
    }

    @Test func chainedCopiesEachStartWithoutAMessageOfTheirOwn() throws {
        try withConnections { target, source in
            let first = try target.copy(
                from: source, sourceSQL: Self.source("1,2"), targetSQL: Self.target("a"),
                target: Self.first(following: ["b", "c"]))
            #expect(first.rows == 2)
            // Still inside the message: the next COPY is on its way.
            #expect(target.transactionStatus == .active)
            let second = try target.copy(
                from: source, sourceSQL: Self.source("3"), targetSQL: Self.target("b"), targetPreamble: ["RELEASE d"],
                target: Self.later(continues: true))
            #expect(second.rows == 1)
            let third = try target.copy(
                from: source, sourceSQL: Self.source("4,5,6"), targetSQL: Self.target("c"),
                targetPreamble: ["RELEASE d"], target: Self.later(continues: false))
            #expect(third.rows == 3)
            #expect(target.transactionStatus == .inTransaction)
            try target.executeSimple("RELEASE d")
            #expect(try contents(target) == ["1,2", "3", "4,5,6"])
        }
    }

    /// A later copy whose table is missing: its COPY is refused, the copies
    /// after it never start, and the connection takes a new message.
    @Test func aRefusedLaterTargetEndsTheMessage() throws {
        try withConnections { target, source in
            try target.copy(
                from: source, sourceSQL: Self.source("1"), targetSQL: Self.target("a"),
                target: Self.first(following: ["missing", "c"]))
            let failure = Self.failure { () throws(CopyError) in
                try target.copy(
                    from: source, sourceSQL: Self.source("2"), targetSQL: Self.target("missing"),
                    targetPreamble: ["RELEASE d"], target: Self.later(continues: true))
            }
            #expect(failure?.side == .targetRefused)
            #expect(failure?.sqlState == "42P01")
            // The source's statement was never sent.
            #expect(source.transactionStatus == .inTransaction)
            #expect(target.transactionStatus == .inFailedTransaction)
            try target.executeSimple("ROLLBACK TO d")
            try target.copy(from: source, sourceSQL: Self.source("3"), targetSQL: Self.target("c"))
            try target.executeSimple("RELEASE d")
            #expect(try contents(target) == ["1", "", "3"])
        }
    }

    /// A copy whose rows the target refuses at its end: the message ends
    /// there, with that copy's failure.
    @Test func aTargetFailingAtItsEndEndsTheMessage() throws {
        try withConnections { target, source in
            let failure = Self.failure { () throws(CopyError) in
                try target.copy(
                    from: source, sourceSQL: "COPY (SELECT 'not a number') TO STDOUT", targetSQL: Self.target("a"),
                    target: Self.first(following: ["b"]))
            }
            #expect(failure?.side == .target)
            #expect(failure?.sqlState == "22P02")
            #expect(target.transactionStatus == .inFailedTransaction)
            try target.executeSimple("ROLLBACK TO d")
            try target.copy(from: source, sourceSQL: Self.source("7"), targetSQL: Self.target("b"))
            #expect(try contents(target) == ["", "7", ""])
        }
    }

    /// A source failing inside a chained copy ends the target's message too.
    @Test func aFailedSourceEndsTheMessage() throws {
        try withConnections { target, source in
            let failure = Self.failure { () throws(CopyError) in
                try target.copy(
                    from: source, sourceSQL: "COPY (SELECT * FROM missing) TO STDOUT", targetSQL: Self.target("a"),
                    target: Self.first(following: ["b"]))
            }
            #expect(failure?.side == .source)
            #expect(target.transactionStatus == .inFailedTransaction)
            try target.executeSimple("ROLLBACK TO d")
            #expect(try contents(target) == ["", "", ""])
        }
    }

    /// The later copy's preamble (the earlier one's RELEASE) failing is told
    /// apart from its own COPY's refusal.
    @Test func aFailedReleaseInTheMessageIsThePreamblesFailure() throws {
        try withConnections { target, source in
            try target.copy(
                from: source, sourceSQL: Self.source("1"), targetSQL: "COPY a FROM STDIN",
                target: CopyMessage(following: ["RELEASE d", Self.target("b")], continues: true))
            let failure = Self.failure { () throws(CopyError) in
                try target.copy(
                    from: source, sourceSQL: Self.source("2"), targetSQL: Self.target("b"),
                    targetPreamble: ["RELEASE d"], target: Self.later(continues: false))
            }
            #expect(failure?.side == .preamble)
            #expect(failure?.sqlState == "3B001")
            try target.executeSimple("ROLLBACK")
        }
    }

    /// A message stopped between two copies (the snapshot was interrupted)
    /// is given up, and the connection rolls back as usual.
    @Test func aHalfReadMessageIsGivenUp() throws {
        try withConnections { target, source in
            try target.copy(
                from: source, sourceSQL: Self.source("1"), targetSQL: Self.target("a"),
                target: Self.first(following: ["b", "c"]))
            #expect(target.transactionStatus == .active)
            target.abandonPendingCommand()
            #expect(target.transactionStatus == .inFailedTransaction)
            try target.executeSimple("ROLLBACK")
            #expect(try contents(target) == ["", "", ""])
            // Idle: nothing to give up.
            target.abandonPendingCommand()
            #expect(target.transactionStatus == .idle)
        }
    }

    static func chainedSource(_ values: String) -> String { "SAVEPOINT s; " + source(values) }

    /// Both sides chained: every source's rows reach its own table, though
    /// the source server sends them all without waiting.
    @Test func chainedSourcesEachFeedTheirOwnCopy() throws {
        try withConnections { target, source in
            let sources = ["1,2", "3", "4,5,6"].map(Self.chainedSource)
            try target.copy(
                from: source, sourceSQL: sources[0], targetSQL: Self.target("a"),
                source: CopyMessage(following: ["RELEASE s", sources[1], "RELEASE s", sources[2]], continues: true),
                target: Self.first(following: ["b", "c"]))
            #expect(source.transactionStatus == .active)
            try target.copy(
                from: source, sourceSQL: sources[1], targetSQL: Self.target("b"), sourcePreamble: ["RELEASE s"],
                targetPreamble: ["RELEASE d"], source: Self.later(continues: true), target: Self.later(continues: true))
            try target.copy(
                from: source, sourceSQL: sources[2], targetSQL: Self.target("c"), sourcePreamble: ["RELEASE s"],
                targetPreamble: ["RELEASE d"], source: Self.later(continues: false),
                target: Self.later(continues: false))
            #expect(source.transactionStatus == .inTransaction)
            try source.executeSimple("RELEASE s")
            try target.executeSimple("RELEASE d")
            #expect(try contents(target) == ["1,2", "3", "4,5,6"])
        }
    }

    /// A target refused while the source's message goes on: what the source
    /// still sends is discarded, and both connections take new statements.
    @Test func aRefusedTargetDiscardsTheRestOfTheSourcesMessage() throws {
        try withConnections { target, source in
            let sources = ["1", "2", "3"].map(Self.chainedSource)
            try target.copy(
                from: source, sourceSQL: sources[0], targetSQL: Self.target("a"),
                source: CopyMessage(following: ["RELEASE s", sources[1], "RELEASE s", sources[2]], continues: true),
                target: Self.first(following: ["missing", "c"]))
            let failure = Self.failure { () throws(CopyError) in
                try target.copy(
                    from: source, sourceSQL: sources[1], targetSQL: Self.target("missing"),
                    sourcePreamble: ["RELEASE s"], targetPreamble: ["RELEASE d"], source: Self.later(continues: true),
                    target: Self.later(continues: true))
            }
            #expect(failure?.side == .targetRefused)
            #expect(source.transactionStatus == .inTransaction)
            try source.executeSimple("ROLLBACK TO s")
            try target.executeSimple("ROLLBACK TO d")
            try target.copy(from: source, sourceSQL: Self.chainedSource("9"), targetSQL: Self.target("c"))
            #expect(try contents(target) == ["1", "", "9"])
        }
    }

    /// A source failing inside its message: the target's message ends too.
    @Test func aFailedChainedSourceEndsBothMessages() throws {
        try withConnections { target, source in
            let sources = [Self.chainedSource("1"), "SAVEPOINT s; COPY (SELECT * FROM missing) TO STDOUT"]
            try target.copy(
                from: source, sourceSQL: sources[0], targetSQL: Self.target("a"),
                source: CopyMessage(following: ["RELEASE s", sources[1]], continues: true),
                target: Self.first(following: ["b"]))
            let failure = Self.failure { () throws(CopyError) in
                try target.copy(
                    from: source, sourceSQL: sources[1], targetSQL: Self.target("b"), sourcePreamble: ["RELEASE s"],
                    targetPreamble: ["RELEASE d"], source: Self.later(continues: false),
                    target: Self.later(continues: false))
            }
            #expect(failure?.side == .source)
            #expect(failure?.sqlState == "42P01")
            #expect(source.transactionStatus == .inFailedTransaction)
            #expect(target.transactionStatus == .inFailedTransaction)
            try source.executeSimple("ROLLBACK TO s")
            try target.executeSimple("ROLLBACK TO d")
            #expect(try contents(target) == ["1", "", ""])
        }
    }
}
