import Testing

@testable import PowaCore

/// Consecutive copies of a group share one message on each side: the first
/// sends the later ones' statements, each later one reads its answers, the
/// source's message stops at a copy with a cleanup, and a failed copy makes
/// the next one start messages of its own.
struct SnapshotRunCopyChainTests {
    static let datasources: [[String?]] = [
        ["pg_stat_statements", "f", "powa_statements_src", nil, "powa_statements_snapshot", nil],
        ["pg_stat_bgwriter", "f", "powa_stat_bgwriter_src", nil, "powa_stat_bgwriter_snapshot", nil],
        // Skipped: no copy, so not in the message.
        ["pg_wait_sampling", "f", "powa_wait_sampling_src", nil, "powa_wait_sampling_snapshot", "pg_wait_sampling"],
        ["pg_stat_user_functions", "f", "powa_user_functions_src", nil, "powa_user_functions_snapshot", nil],
    ]

    static func copies(_ harness: SnapshotRunHarness) -> [SnapshotCopy] {
        harness.commands.compactMap { if case .copy(let copy) = $0 { copy } else { nil } }
    }

    @Test func theFirstCopySendsTheOthersTargetsAndEachLaterOneOnlyReadsItsOwn() {
        var harness = SnapshotRunHarness()
        harness.datasources = Self.datasources
        let (result, _) = harness.drive()
        let copies = Self.copies(harness)
        let first = harness.commands.firstIndex(where: \.isCopy)!
        let last = harness.commands.lastIndex(where: \.isCopy)!
        #expect(copies.map(\.name) == ["pg_stat_statements", "pg_stat_bgwriter", "pg_stat_user_functions"])
        #expect(copies.map(\.targetSent) == [false, true, true])
        #expect(copies.map(\.targetContinues) == [true, true, false])
        #expect(
            copies[0].targetFollowing == [
                Savepoint.data.release, copies[1].targetSQL, Savepoint.data.release, copies[2].targetSQL,
            ])
        #expect(copies[1].targetFollowing.isEmpty && copies[2].targetFollowing.isEmpty)
        // The same on the source.
        #expect(copies.map(\.sourceSent) == [false, true, true])
        #expect(copies.map(\.sourceContinues) == [true, true, false])
        #expect(
            copies[0].sourceFollowing == [
                Savepoint.source.release, copies[1].sourceSQL, Savepoint.source.release, copies[2].sourceSQL,
            ])
        #expect(copies[1].sourcePreamble == [Savepoint.source.release])
        // No remote statement inside the message either.
        #expect(!harness.commands[first...last].contains { $0.side == .remote })
        // What each later copy reads first: the earlier one's release.
        #expect(copies[1].targetPreamble == [Savepoint.data.release])
        #expect(copies[2].targetPreamble == [Savepoint.data.release])
        // No repository statement inside the message.
        #expect(!harness.commands[first...last].contains { $0.side == .repository })
        // The last release goes with the next repository statement (after
        // the remote sent what it owes).
        #expect(
            harness.transcript[last + 2] == "repository: RELEASE data + SAVEPOINT powa_take_snapshot + take snapshot")
        guard case .committed(let errors, _) = result else {
            Issue.record("expected a commit, got \(result)")
            return
        }
        #expect(errors.count == 1)
    }

    /// After a failed copy (the server skipped the rest of the message),
    /// the next copy sends the remaining ones' targets again.
    @Test(arguments: [
        CopyFailure.target(Failures.statement), .source(Failures.statement), .targetRefused(Failures.statement),
    ])
    func afterAFailedCopyTheNextOneStartsANewMessage(failure: CopyFailure) {
        var harness = SnapshotRunHarness()
        harness.datasources = Self.datasources
        harness.override = { _, command in
            command.copyName == "pg_stat_bgwriter" ? .copyFailed(failure) : nil
        }
        let (result, _) = harness.drive()
        let copies = Self.copies(harness)
        #expect(copies.map(\.targetSent) == [false, true, false])
        #expect(copies.map(\.targetContinues) == [true, true, false])
        #expect(copies[2].targetFollowing.isEmpty)
        #expect(copies.map(\.sourceSent) == [false, true, false])
        #expect(copies.map(\.sourceContinues) == [true, true, false])
        // Both savepoints are rolled back before the new messages, the
        // source's too even when its target refused the copy: its source
        // statements went with the first copy's message.
        let transcript = harness.transcript
        let failed = transcript.firstIndex { $0.hasSuffix("copy pg_stat_bgwriter from remote") }!
        #expect(
            Array(transcript[(failed + 1)...(failed + 2)]) == [
                "remote: ROLLBACK TO src", "repository: ROLLBACK TO data",
            ])
        guard let rollback = transcript.firstIndex(of: "repository: ROLLBACK TO data"),
            let last = transcript.firstIndex(where: { $0.hasSuffix("copy pg_stat_user_functions from remote") })
        else {
            Issue.record("no rollback before the last copy: \(transcript)")
            return
        }
        #expect(rollback < last)
        guard case .committed(let errors, _) = result else {
            Issue.record("expected a commit, got \(result)")
            return
        }
        #expect(errors.count == 2)
    }

    /// A source message stops at a copy with a cleanup, which runs alone
    /// after it; the repository's goes on past it.
    @Test func aSourceMessageStopsAtACleanup() {
        var harness = SnapshotRunHarness()
        harness.datasources = [
            Self.datasources[0],
            [
                "pg_qualstats", "f", "powa_qualstats_src", "SELECT {pg_qualstats}.pg_qualstats_reset()",
                "powa_qualstats_snapshot", nil,
            ],
            Self.datasources[1],
        ]
        _ = harness.drive()
        let copies = Self.copies(harness)
        #expect(copies.map(\.sourceSent) == [false, true, false])
        #expect(copies.map(\.sourceContinues) == [true, false, false])
        #expect(copies.map(\.targetSent) == [false, true, true])
        #expect(
            Array(harness.transcript[2...5]) == [
                "remote: BEGIN + copy pg_stat_statements from remote",
                "repository: RELEASE data + remote: RELEASE src + copy pg_qualstats from remote",
                "remote: RELEASE src + SAVEPOINT src + cleanup",
                "repository: RELEASE data + remote: RELEASE src + copy pg_stat_bgwriter from remote",
            ])
    }

    /// The global datasources and each remote database are messages of
    /// their own: between them the repository lists what comes next.
    @Test func eachGroupOfCopiesIsAMessageOfItsOwn() {
        var harness = SnapshotRunHarness()
        harness.usePowa5()
        harness.databaseModules = [
            ["pg_stat_all_tables", "SELECT relid FROM t", "powa.tables_tmp", nil],
            ["pg_stat_user_functions", "SELECT funcid FROM f", "powa.functions_tmp", nil],
        ]
        _ = harness.drive()
        let copies = Self.copies(harness)
        #expect(copies.map(\.from) == [.remote, .database, .database, .database, .database])
        #expect(copies.map(\.targetSent) == [false, false, true, false, true])
        #expect(copies.map(\.targetContinues) == [false, true, false, true, false])
        #expect(copies[1].targetFollowing == [Savepoint.data.release, copies[2].targetSQL])
        #expect(copies.map(\.sourceSent) == [false, false, true, false, true])
        #expect(copies[1].sourceFollowing == [Savepoint.source.release, copies[2].sourceSQL])
    }

    /// Stopped between two chained copies: the snapshot rolls back (the
    /// worker gives up the half-read message first).
    @Test func aStopBetweenChainedCopiesRollsBack() {
        var harness = SnapshotRunHarness()
        harness.datasources = Self.datasources
        harness.interruption = { index in index == 2 ? .stopping : nil }
        let (result, _) = harness.drive()
        #expect(harness.commands[2].isCopy)
        #expect(Self.copies(harness).first?.targetContinues == true)
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: nil, countsAsFailure: false))
    }
}
