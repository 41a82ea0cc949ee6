import Testing

@testable import PowaCore

/// The snapshot's sequence of decisions, without a socket: what runs
/// where, what a failure costs, what is rolled back and what is recorded.
@Suite struct SnapshotRunTests {
    /// Every statement of the reference's sequence, in its order on each
    /// connection; those joined by ` + ` go in one round trip.
    static let healthyPowa4 = [
        "read extensions",
        "repository: BEGIN + list datasources",
        "remote: BEGIN + copy pg_stat_statements from remote",
        "repository: RELEASE data + remote: RELEASE src + copy pg_qualstats from remote",
        "remote: RELEASE src + SAVEPOINT src + cleanup",
        "remote: RELEASE src",
        "repository: RELEASE data + SAVEPOINT powa_take_snapshot + take snapshot",
        "repository: RELEASE powa_take_snapshot + set application_name + COMMIT",
        "remote: COMMIT",
        "finish",
    ]

    /// Each statement of a healthy PoWA 4 snapshot, as the command that
    /// sends it and its place among that command's statements (its
    /// preamble first, its own last).
    static let healthyPowa4Statements: [StatementPosition] = {
        var harness = SnapshotRunHarness()
        _ = harness.drive()
        return harness.commands.dropLast().enumerated().flatMap { index, command in
            (0...command.preambleCount).map {
                StatementPosition(command: index, statement: $0, isOwn: $0 == command.preambleCount)
            }
        }
    }()

    @Test func aHealthySnapshotCopiesEachDatasourceInSavepointsAndCommitsTheRepositoryBeforeTheRemote() throws {
        var harness = SnapshotRunHarness()
        let (result, followUps) = harness.drive()
        #expect(harness.transcript == Self.healthyPowa4)
        #expect(result == .committed(errors: [], copied: CopiedVolume(rows: 20, bytes: 200)))
        #expect(followUps.isEmpty)
        // Each savepoint travels with its side's COPY.
        guard case .copy(let copy) = try #require(harness.commands.first { $0.isCopy }) else { return }
        #expect(copy.sourceSQL.hasPrefix("SAVEPOINT src; COPY ("))
        #expect(copy.targetSQL.hasPrefix("SAVEPOINT data; COPY "))
        let cleanup = try #require(harness.simpleStatements.first { $0.hasPrefix("SAVEPOINT src; ") })
        #expect(cleanup.hasSuffix("pg_qualstats_reset()"))
        #expect(harness.logs(.warning).isEmpty)
    }

    @Test func incompatibleVersionsReplaceTheErrorsAndNothingRuns() {
        var harness = SnapshotRunHarness()
        harness.repository = InstalledExtensions([.init(name: "powa", schema: "public", version: "5.0.2")])
        let (result, followUps) = harness.drive()
        #expect(harness.transcript == ["read extensions", "repository: replace errors", "finish"])
        let message = harness.recordedErrors("replace")?.first
        #expect(message?.isEmpty == false)
        #expect(result == .notCommitted(reason: message, countsAsFailure: true))
        #expect(followUps.isEmpty)
        #expect(harness.logs(.error) == [message].compactMap { $0 })
    }

    @Test func aRepositoryWithoutPowaIsRecordedToo() {
        var harness = SnapshotRunHarness()
        harness.repository = InstalledExtensions([])
        let (result, _) = harness.drive()
        #expect(harness.transcript == ["read extensions", "repository: replace errors", "finish"])
        guard case .notCommitted(let reason?, true) = result else {
            Issue.record("expected a failure with a reason, got \(result)")
            return
        }
        #expect(reason.contains("powa"))
    }

    @Test func rereadingTheRemotesExtensionsFailingEndsTheSnapshotAsAFailure() {
        var harness = SnapshotRunHarness()
        harness.override = { index, _ in index == 0 ? .failed(Failures.statement) : nil }
        let (result, followUps) = harness.drive()
        #expect(harness.transcript == ["read extensions", "roll back", "repository: replace errors", "finish"])
        let message = "Error during snapshot: \(Failures.statement)"
        #expect(harness.recordedErrors("replace") == [message])
        #expect(result == .notCommitted(reason: message, countsAsFailure: true))
        #expect(followUps.isEmpty)
    }

    // MARK: What a failed datasource costs

    @Test func aFailedSourceRollsBackBothSavepointsStillRunsItsCleanupAndIsRecorded() {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            command.copyName == "pg_qualstats" ? .copyFailed(.source(Failures.statement)) : nil
        }
        let (result, _) = harness.drive()
        let error = SnapshotErrorText.sourceFailed(datasource: "pg_qualstats", detail: Failures.statement.message)
        #expect(
            Array(harness.transcript[3...7]) == [
                "repository: RELEASE data + remote: RELEASE src + copy pg_qualstats from remote",
                "remote: ROLLBACK TO src",
                "repository: ROLLBACK TO data",
                "remote: SAVEPOINT src + cleanup",
                "remote: RELEASE src",
            ])
        #expect(harness.ran(.simple(Savepoint.metas.create), on: .repository))
        #expect(harness.recordedErrors("append") == [error])
        #expect(result == .committed(errors: [error], copied: CopiedVolume(rows: 10, bytes: 100)))
        #expect(harness.logs(.warning) == [error])
    }

    /// A refused target never sent the source's statements: only the
    /// repository's savepoint is rolled back. A target failing during the
    /// COPY rolls back both. Either is recorded as an insert error.
    @Test(arguments: [
        (CopyFailure.targetRefused(Failures.statement), ["repository: ROLLBACK TO data"]),
        (CopyFailure.target(Failures.statement), ["remote: ROLLBACK TO src", "repository: ROLLBACK TO data"]),
    ])
    func aFailedTargetRollsBackWhatRanAndIsRecordedAsAnInsertError(failure: CopyFailure, rollbacks: [String]) {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in command.copyName == "pg_stat_statements" ? .copyFailed(failure) : nil }
        let (result, _) = harness.drive()
        // The remote's BEGIN never went out with the refused copy: it goes
        // with the next statement on the remote.
        let next =
            rollbacks.count == 1
            ? "remote: BEGIN + copy pg_qualstats from remote" : "copy pg_qualstats from remote"
        let expected = ["remote: BEGIN + copy pg_stat_statements from remote"] + rollbacks + [next]
        #expect(Array(harness.transcript[2..<(2 + expected.count)]) == expected)
        let error = SnapshotErrorText.insertFailed(datasource: "pg_stat_statements", detail: Failures.statement.message)
        #expect(result == .committed(errors: [error], copied: CopiedVolume(rows: 10, bytes: 100)))
    }

    @Test func aFailedCleanupRollsBackItsSavepointAndIsRecorded() throws {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            if case .execute(.simple(let text), _, _) = command, text.hasPrefix("SAVEPOINT src; SELECT") {
                return .failed(Failures.statement)
            }
            return nil
        }
        let (result, _) = harness.drive()
        #expect(
            Array(harness.transcript[4...6]) == [
                "remote: RELEASE src + SAVEPOINT src + cleanup", "remote: ROLLBACK TO src",
                "repository: RELEASE data + SAVEPOINT powa_take_snapshot + take snapshot",
            ])
        guard case .committed(let errors, _) = result else {
            Issue.record("expected a commit, got \(result)")
            return
        }
        #expect(errors.count == 1)
        #expect(try #require(errors.first).hasPrefix("Error running cleanup "))
    }

    @Test func aCleanupThatCannotBeWrittenIsRecordedWithoutRunning() {
        var harness = SnapshotRunHarness()
        harness.remote = InstalledExtensions([.init(name: "powa", schema: "public", version: "4.1.4")])
        let (result, _) = harness.drive()
        #expect(!harness.transcript.contains { $0.contains("SAVEPOINT src + cleanup") })
        let error = SnapshotErrorText.cleanupNeedsMissingExtension(
            datasource: "pg_qualstats", extname: "pg_qualstats", serverName: "127.0.0.1:5432")
        #expect(result == .committed(errors: [error], copied: CopiedVolume(rows: 20, bytes: 200)))
    }

    @Test func skippedAndIgnoredDatasourcesCopyNothing() {
        var harness = SnapshotRunHarness()
        harness.datasources = [
            [
                "pg_wait_sampling", "f", "powa_wait_sampling_src", nil, "powa_wait_sampling_snapshot",
                "pg_wait_sampling",
            ],
            ["nothing_remote", "f", nil, nil, "powa_nothing_snapshot", nil],
            ["broken row"],
        ]
        let (result, _) = harness.drive()
        #expect(!harness.commands.contains { $0.isCopy })
        let skipped = SnapshotErrorText.extensionMissing("pg_wait_sampling", on: .remote, serverName: "127.0.0.1:5432")
        guard case .committed(let errors, _) = result else {
            Issue.record("expected a commit, got \(result)")
            return
        }
        #expect(errors.count == 2)
        #expect(errors.first?.hasPrefix("Ignored a datasource row: ") == true)
        #expect(errors.last == skipped)
        #expect(harness.logs(.warning).contains(SnapshotErrorText.noQuerySource(datasource: "nothing_remote")))
    }

    @Test func noDatasourceAtAllIsSaidAndTheSnapshotStillIntegrates() {
        var harness = SnapshotRunHarness()
        harness.datasources = []
        let (result, _) = harness.drive()
        #expect(harness.logs(.info) == ["No datasource configured for server 5"])
        #expect(harness.transcript.contains("repository: SAVEPOINT powa_take_snapshot + take snapshot"))
        #expect(result == .committed(errors: [], copied: CopiedVolume()))
    }

    // MARK: powa_take_snapshot and the errors column

    @Test func aFailedTakeSnapshotIsRolledBackToItsSavepointTheErrorsClearedAndItsErrorAppended() {
        var harness = SnapshotRunHarness()
        let take = harness.sql.takeSnapshot(srvid: SnapshotRunHarness.srvid)
        harness.override = { _, command in command.executes(take) ? .failed(Failures.statement) : nil }
        let (result, _) = harness.drive()
        #expect(
            Array(harness.transcript[6...]) == [
                "repository: RELEASE data + SAVEPOINT powa_take_snapshot + take snapshot",
                "repository: ROLLBACK TO powa_take_snapshot",
                "repository: clear errors",
                "repository: set application_name + SAVEPOINT metas + append errors",
                "repository: RELEASE metas + COMMIT",
                "remote: COMMIT",
                "finish",
            ])
        let error = SnapshotErrorText.takeSnapshotFailed(srvid: 5, detail: Failures.statement.message)
        #expect(harness.recordedErrors("append") == [error])
        #expect(result == .committed(errors: [error], copied: CopiedVolume(rows: 20, bytes: 200)))
    }

    @Test func failedFunctionsOfTakeSnapshotAreOnlyLogged() {
        var harness = SnapshotRunHarness()
        harness.failedFunctions = "2"
        let (result, _) = harness.drive()
        #expect(
            harness.logs(.warning) == [
                "Number of errors during snapshot: 2", " Check the logs on the repository server",
            ])
        #expect(result == .committed(errors: [], copied: CopiedVolume(rows: 20, bytes: 200)))
    }

    @Test func errorsThatCannotBeAppendedAreLoggedAndTheSnapshotStillCommits() {
        var harness = SnapshotRunHarness()
        let append = harness.sql.appendErrors(srvid: 5, errors: []).text
        harness.override = { _, command in
            if command.copyName == "pg_stat_statements" { return .copyFailed(.source(Failures.statement)) }
            if case .execute(.parameterized(let s), _, _) = command, s.text == append {
                return .failed(Failures.statement)
            }
            return nil
        }
        let (result, _) = harness.drive()
        #expect(
            harness.transcript.suffix(5) == [
                "repository: RELEASE powa_take_snapshot + set application_name + SAVEPOINT metas + append errors",
                "repository: ROLLBACK TO metas", "repository: COMMIT", "remote: COMMIT", "finish",
            ])
        #expect(harness.logs(.warning).contains { $0.hasPrefix("Could not report errors for server 5: ") })
        guard case .committed(let errors, _) = result else {
            Issue.record("expected a commit, got \(result)")
            return
        }
        #expect(errors.count == 1)
    }

    // MARK: Commit order

    @Test func aFailedRemoteCommitKeepsTheSnapshotAndDropsTheRemoteConnection() {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            command.executes(SessionSQL.commit) && command.side == .remote ? .failed(Failures.broken) : nil
        }
        let (result, followUps) = harness.drive()
        #expect(result == .committed(errors: [], copied: CopiedVolume(rows: 20, bytes: 200)))
        #expect(followUps == [.disconnectRemote])
        #expect(harness.logs(.warning).first?.hasPrefix("Could not commit on the remote server: ") == true)
    }

    @Test func aFailedRepositoryCommitRollsBackAndNeverCommitsTheRemote() {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            command.executes(SessionSQL.commit) && command.side == .repository ? .failed(Failures.statement) : nil
        }
        let (result, _) = harness.drive()
        #expect(
            harness.transcript.suffix(4) == [
                "repository: RELEASE powa_take_snapshot + set application_name + COMMIT", "roll back",
                "repository: replace errors", "finish",
            ])
        #expect(!harness.ran(.simple(SessionSQL.commit), on: .remote))
        #expect(result == .notCommitted(reason: "Error during snapshot: \(Failures.statement)", countsAsFailure: true))
    }

    // MARK: Every step, failed

    /// Each statement of a healthy snapshot, answered with a statement
    /// failure: the snapshot rolls back unless that statement's failure is
    /// documented to cost only its own part (a copy, a cleanup,
    /// powa_take_snapshot, appending the errors, the remote's commit). A
    /// statement sent ahead of another in the same round trip must succeed,
    /// as it did when it went alone: its failure always rolls back.
    @Test(arguments: healthyPowa4Statements)
    func aFailedStatementEndsTheSnapshotUnlessItsFailureCostsOnlyItsPart(position: StatementPosition) {
        var harness = SnapshotRunHarness()
        harness.override = { i, command in
            guard i == position.command else { return nil }
            guard position.isOwn else { return .preambleFailed(Failures.statement) }
            return command.isCopy ? .copyFailed(.source(Failures.statement)) : .failed(Failures.statement)
        }
        let (result, _) = harness.drive()
        let failed = harness.mainStatement(harness.commands[position.command])
        let costsOnlyItsPart =
            position.isOwn
            && (failed.hasPrefix("copy ") || failed == "remote: SAVEPOINT src + cleanup"
                || failed == "repository: take snapshot" || failed == "remote: COMMIT")
        if costsOnlyItsPart {
            #expect(result.isCommitted, "\(position): \(harness.transcript)")
        } else {
            #expect(harness.commands[position.command + 1].isRollBack, "\(position): \(harness.transcript)")
            #expect(
                result == .notCommitted(reason: "Error during snapshot: \(Failures.statement)", countsAsFailure: true))
            #expect(!harness.ran(.simple(SessionSQL.commit), on: .remote))
        }
    }

    /// A broken connection under any statement before the commit ends the
    /// snapshot, even where a statement failure would cost only one part.
    @Test(arguments: healthyPowa4Statements.filter { (1..<(healthyPowa4.count - 3)).contains($0.command) })
    func aBrokenConnectionAtAnyStatementEndsTheSnapshot(position: StatementPosition) {
        var harness = SnapshotRunHarness()
        harness.override = { i, command in
            guard i == position.command else { return nil }
            guard position.isOwn else { return .preambleFailed(Failures.broken) }
            return command.isCopy ? .copyFailed(.source(Failures.broken)) : .failed(Failures.broken)
        }
        let (result, _) = harness.drive()
        #expect(harness.commands[position.command + 1].isRollBack, "\(harness.transcript)")
        #expect(!result.isCommitted)
    }

    /// The statements sent together are those of the reference's
    /// sequence, in the same order on each connection.
    @Test func theStatementsSentTogetherAreTheReferencesSequenceInItsOrder() {
        var harness = SnapshotRunHarness()
        _ = harness.drive()
        let repository = harness.executed.filter { $0.1 == .repository }.map { harness.name($0.0) }
        let remote = harness.executed.filter { $0.1 == .remote }.map { harness.name($0.0) }
        #expect(
            repository == [
                "BEGIN", "list datasources", "RELEASE data", "RELEASE data", "SAVEPOINT powa_take_snapshot",
                "take snapshot", "RELEASE powa_take_snapshot", "set application_name", "COMMIT",
            ])
        #expect(remote == ["BEGIN", "RELEASE src", "RELEASE src", "SAVEPOINT src + cleanup", "RELEASE src", "COMMIT"])
        // The COPY statements themselves, with their savepoints, between them.
        #expect(harness.commands.filter(\.isCopy).count == 2)
    }

    @Test func aBrokenRemoteIsDroppedAndTheErrorsReplacedOverTheHealthyRepository() {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            if command.copyName == "pg_stat_statements" { return .copyFailed(.source(Failures.statement)) }
            if command.copyName == "pg_qualstats" { return .copyFailed(.source(Failures.broken)) }
            if command.isRollBack { return .rolledBack(remoteHealthy: false, repositoryHealthy: true) }
            return nil
        }
        let (result, followUps) = harness.drive()
        let message = "Error during snapshot: \(Failures.broken)"
        let earlier = SnapshotErrorText.sourceFailed(
            datasource: "pg_stat_statements", detail: Failures.statement.message)
        #expect(harness.transcript.suffix(3) == ["roll back", "repository: replace errors", "finish"])
        #expect(harness.recordedErrors("replace") == [earlier, message])
        #expect(result == .notCommitted(reason: message, countsAsFailure: true))
        #expect(followUps == [.disconnectRemote, .reportNoRemoteConnection])
        #expect(harness.logs(.error) == [message])
    }

    @Test func aBrokenRepositoryHasTheErrorsRecordedOverANewConnection() {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            if command.copyName == "pg_stat_statements" { return .copyFailed(.target(Failures.broken)) }
            if command.isRollBack { return .rolledBack(remoteHealthy: true, repositoryHealthy: false) }
            return nil
        }
        let (result, followUps) = harness.drive()
        let message = "Error during snapshot: \(Failures.broken)"
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: message, countsAsFailure: true))
        #expect(followUps == [.recordErrors([message], replace: true)])
    }

    /// A must-succeed statement cancelled by statement_timeout means the
    /// budget ran out.
    @Test func aCancelledStatementThatMustSucceedCountsAsOverBudget() {
        var harness = SnapshotRunHarness()
        // The listing of datasources.
        harness.override = { index, _ in index == 1 ? .failed(Failures.cancelled) : nil }
        let (result, followUps) = harness.drive()
        let message = "Snapshot cancelled after running past its 30 s budget (snapshot_timeout)"
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: message, countsAsFailure: true))
        #expect(followUps == [.disconnectRemote, .recordErrors([message], replace: true)])
    }

    /// A copy cut by the remote's statement_timeout costs that datasource.
    @Test func aSourceCancelledByItsStatementTimeoutCostsOnlyItself() {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            command.copyName == "pg_stat_statements" ? .copyFailed(.source(Failures.cancelled)) : nil
        }
        let (result, _) = harness.drive()
        let error = SnapshotErrorText.sourceFailed(datasource: "pg_stat_statements", detail: Failures.cancelled.message)
        #expect(result == .committed(errors: [error], copied: CopiedVolume(rows: 10, bytes: 100)))
    }

    // MARK: Interruptions

    /// A stop seen with the answer to any command before the repository's
    /// commit rolls back and records nothing.
    @Test(arguments: 0..<(healthyPowa4.count - 3))
    func aStopAtAnyStepRollsBackAndRecordsNothing(index: Int) {
        var harness = SnapshotRunHarness()
        harness.interruption = { $0 >= index ? .stopping : nil }
        let (result, followUps) = harness.drive()
        #expect(harness.transcript.count == index + 3, "\(harness.transcript)")
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: nil, countsAsFailure: false))
        #expect(followUps.isEmpty)
        #expect(harness.logs(.info).last == "Snapshot cancelled: the worker is stopping; nothing of it was committed")
    }

    @Test(arguments: 0..<(healthyPowa4.count - 3))
    func aSnapshotOverBudgetAtAnyStepRollsBackDropsTheRemoteAndRecordsWhy(index: Int) {
        var harness = SnapshotRunHarness()
        harness.override = { i, command in
            i == 2 && index > 2 ? .copyFailed(.source(Failures.statement)) : nil
        }
        harness.interruption = { $0 >= index ? .overBudget : nil }
        let (result, followUps) = harness.drive()
        let message = "Snapshot cancelled after running past its 30 s budget (snapshot_timeout)"
        var recorded = [message]
        // The failed copy's error counts once both its savepoints are rolled back.
        if index > 4 {
            recorded.insert(
                SnapshotErrorText.sourceFailed(datasource: "pg_stat_statements", detail: Failures.statement.message),
                at: 0)
        }
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: message, countsAsFailure: true))
        #expect(followUps == [.disconnectRemote, .recordErrors(recorded, replace: true)])
    }

    /// Once the repository committed, the snapshot is kept whatever comes.
    @Test(arguments: [SnapshotInterruption.stopping, .overBudget])
    func anInterruptionWithTheCommitsAnswerKeepsTheSnapshot(interruption: SnapshotInterruption) {
        var harness = SnapshotRunHarness()
        let commit = healthyCommitIndex
        harness.interruption = { $0 >= commit ? interruption : nil }
        let (result, _) = harness.drive()
        #expect(harness.transcript == Self.healthyPowa4)
        #expect(result.isCommitted)
    }

    var healthyCommitIndex: Int {
        Self.healthyPowa4.firstIndex { $0.hasSuffix("repository: COMMIT") || $0.hasSuffix(" + COMMIT") }!
    }

    @Test func aStopThatComesWithAFailedCommitRollsBack() {
        var harness = SnapshotRunHarness()
        let commit = healthyCommitIndex
        harness.override = { i, _ in i == commit ? .failed(Failures.cancelled) : nil }
        harness.interruption = { $0 == commit ? .stopping : nil }
        let (result, _) = harness.drive()
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: nil, countsAsFailure: false))
    }

    @Test func aStopWhileRecordingAnIncompatibilityStillFinishesWithoutCountingAFailure() {
        var harness = SnapshotRunHarness()
        harness.repository = InstalledExtensions([.init(name: "powa", schema: "public", version: "5.0.2")])
        harness.interruption = { $0 >= 1 ? .stopping : nil }
        let (result, _) = harness.drive()
        #expect(harness.transcript == ["read extensions", "repository: replace errors", "finish"])
        guard case .notCommitted(_?, false) = result else {
            Issue.record("expected no failure counted, got \(result)")
            return
        }
    }

    // MARK: PoWA 5: per-database work

    @Test func powa5CollectsEachDatabaseOverItsOwnConnectionAfterTheGlobalDatasources() {
        var harness = SnapshotRunHarness()
        harness.usePowa5()
        let (result, _) = harness.drive()
        #expect(
            harness.transcript == [
                "read extensions",
                "repository: BEGIN + list datasources",
                "remote: BEGIN + copy pg_stat_statements from remote",
                "remote: RELEASE src + \(RemoteSQL.now)",
                "remote: \(RemoteSQL.databases)",
                "repository: RELEASE data + list db modules",
                "repository: list catalogs",
                "open app",
                "database: BEGIN + copy pg_stat_all_tables from database",
                // Sent before the connection closes, as it was.
                "database: RELEASE src",
                "open postgres",
                "repository: RELEASE data + database: BEGIN + copy pg_stat_all_tables from database",
                "database: RELEASE src",
                "repository: RELEASE data + SAVEPOINT powa_take_snapshot + take snapshot",
                "repository: RELEASE powa_take_snapshot + set application_name + COMMIT",
                "remote: COMMIT",
                "finish",
            ])
        #expect(harness.effects.filter { $0 == .closeDatabase }.count == 2)
        #expect(harness.logs(.debug).contains("Working on remote database app"))
        #expect(result == .committed(errors: [], copied: CopiedVolume(rows: 30, bytes: 300)))
    }

    /// Each database's connection is closed before the next one opens.
    @Test func aDatabaseConnectionIsClosedOnceItsCopiesAreDone() {
        var harness = SnapshotRunHarness()
        harness.usePowa5()
        var open = false
        // Effects come with the command after them.
        var run = SnapshotRun(
            SnapshotRun.Context(
                srvid: 5, serverName: "127.0.0.1:5432", repositoryApplicationName: SnapshotRunHarness.applicationName,
                repositoryExtensions: harness.repository,
                remoteServerVersionNum: 150_000, catalogRefresh: nil, budgetSeconds: 30,
                quoteIdentifier: FakeQuoting.identifier, quoteLiteral: FakeQuoting.literal))
        var step = run.start()
        while true {
            if step.effects.contains(.closeDatabase) {
                #expect(open)
                open = false
            }
            if case .openDatabase = step.command {
                #expect(!open, "a database opened while another is open")
                open = true
            }
            if case .finish = step.command { break }
            step = run.next(harness.answer(step.command), interruption: nil)
        }
        #expect(!open)
    }

    @Test func aDatabaseThatCannotBeReachedIsRecordedAndTheOthersAreCollected() {
        var harness = SnapshotRunHarness()
        harness.usePowa5()
        harness.override = { _, command in
            if case .openDatabase("app") = command { return .failed(Failures.broken) }
            return nil
        }
        let (result, _) = harness.drive()
        let error = SnapshotErrorText.databaseConnectionFailed(dbname: "app", detail: Failures.broken.message)
        #expect(harness.transcript.contains("open postgres"))
        #expect(harness.recordedErrors("append") == [error])
        #expect(result == .committed(errors: [error], copied: CopiedVolume(rows: 20, bytes: 200)))
    }

    @Test func powa4HasNoPerDatabaseWork() {
        var harness = SnapshotRunHarness()
        _ = harness.drive()
        #expect(!harness.commands.contains { if case .openDatabase = $0 { true } else { false } })
        #expect(!harness.ran(.simple(RemoteSQL.now), on: .remote))
    }

    @Test func aForcedCatalogRefreshReadsTheCatalogsWithTheForcedListing() {
        var harness = SnapshotRunHarness()
        harness.usePowa5()
        harness.catalogRefresh = .allDatabases
        harness.databaseModules = []
        harness.catalogs = [["pg_class", "SELECT oid FROM pg_catalog.pg_class", "powa.class_tmp", nil]]
        let (result, _) = harness.drive()
        let forced = harness.sql.catalogs(srvid: 5, serverVersionNum: 150_000, forceRefresh: true)
        #expect(forced.map { harness.ran(.parameterized($0), on: .repository) } == true)
        #expect(harness.transcript.filter { $0.hasSuffix("copy pg_class from database") }.count == 2)
        #expect(result.isCommitted)
    }

    @Test func undecodableDbModuleAndCatalogRowsAreRecorded() {
        var harness = SnapshotRunHarness()
        harness.usePowa5()
        harness.databaseModules = [["short"]]
        harness.catalogs = [["also short"]]
        let (result, _) = harness.drive()
        guard case .committed(let errors, _) = result else {
            Issue.record("expected a commit, got \(result)")
            return
        }
        #expect(errors.map { $0.prefix(22) } == ["Ignored a db module ro", "Ignored a catalog row:"])
        #expect(!harness.commands.contains { if case .openDatabase = $0 { true } else { false } })
    }

    @Test func aStopDuringADatabaseCopyRollsBack() {
        var harness = SnapshotRunHarness()
        harness.usePowa5()
        harness.interruption = { index in index == 8 ? .stopping : nil }
        let (result, _) = harness.drive()
        #expect(harness.transcript[8] == "database: BEGIN + copy pg_stat_all_tables from database")
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: nil, countsAsFailure: false))
    }
}

extension SnapshotRunResult {
    var isCommitted: Bool { if case .committed = self { true } else { false } }
}

/// One statement of a command: `statement` counts the command's preamble
/// first; `isOwn` marks the command's own statement, last.
struct StatementPosition: CustomTestStringConvertible, Sendable {
    var command: Int
    var statement: Int
    var isOwn: Bool

    var testDescription: String {
        "command \(command), \(isOwn ? "its own statement" : "statement \(statement) of its preamble")"
    }
}
