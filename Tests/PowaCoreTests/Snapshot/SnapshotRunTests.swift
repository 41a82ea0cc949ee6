import Testing

@testable import PowaCore

/// The snapshot's sequence of decisions, without a socket: what runs
/// where, what a failure costs, what is rolled back and what is recorded.
@Suite struct SnapshotRunTests {
    static let healthyPowa4 = [
        "read extensions",
        "repository: BEGIN",
        "remote: BEGIN",
        "repository: list datasources",
        "copy pg_stat_statements from remote",
        "remote: RELEASE src",
        "repository: RELEASE data",
        "copy pg_qualstats from remote",
        "remote: RELEASE src",
        "repository: RELEASE data",
        "remote: SAVEPOINT src + cleanup",
        "remote: RELEASE src",
        "repository: SAVEPOINT powa_take_snapshot",
        "repository: take snapshot",
        "repository: RELEASE powa_take_snapshot",
        "repository: set application_name",
        "repository: COMMIT",
        "remote: COMMIT",
        "finish",
    ]

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
            Array(harness.transcript[7...11]) == [
                "copy pg_qualstats from remote",
                "remote: ROLLBACK TO src",
                "repository: ROLLBACK TO data",
                "remote: SAVEPOINT src + cleanup",
                "remote: RELEASE src",
            ])
        #expect(harness.transcript.contains("repository: SAVEPOINT metas"))
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
        let expected = ["copy pg_stat_statements from remote"] + rollbacks + ["copy pg_qualstats from remote"]
        #expect(Array(harness.transcript[4..<(4 + expected.count)]) == expected)
        let error = SnapshotErrorText.insertFailed(datasource: "pg_stat_statements", detail: Failures.statement.message)
        #expect(result == .committed(errors: [error], copied: CopiedVolume(rows: 10, bytes: 100)))
    }

    @Test func aFailedCleanupRollsBackItsSavepointAndIsRecorded() throws {
        var harness = SnapshotRunHarness()
        harness.override = { _, command in
            if case .execute(.simple(let text), _) = command, text.hasPrefix("SAVEPOINT src; SELECT") {
                return .failed(Failures.statement)
            }
            return nil
        }
        let (result, _) = harness.drive()
        #expect(
            Array(harness.transcript[10...12]) == [
                "remote: SAVEPOINT src + cleanup", "remote: ROLLBACK TO src",
                "repository: SAVEPOINT powa_take_snapshot",
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
        #expect(!harness.transcript.contains("remote: SAVEPOINT src + cleanup"))
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
        #expect(harness.transcript.contains("repository: take snapshot"))
        #expect(result == .committed(errors: [], copied: CopiedVolume()))
    }

    // MARK: powa_take_snapshot and the errors column

    @Test func aFailedTakeSnapshotIsRolledBackToItsSavepointTheErrorsClearedAndItsErrorAppended() {
        var harness = SnapshotRunHarness()
        let take = harness.sql.takeSnapshot(srvid: SnapshotRunHarness.srvid)
        harness.override = { _, command in command.executes(take) ? .failed(Failures.statement) : nil }
        let (result, _) = harness.drive()
        #expect(
            Array(harness.transcript[13...]) == [
                "repository: take snapshot",
                "repository: ROLLBACK TO powa_take_snapshot",
                "repository: clear errors",
                "repository: set application_name",
                "repository: SAVEPOINT metas",
                "repository: append errors",
                "repository: RELEASE metas",
                "repository: COMMIT",
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
            if case .execute(.parameterized(let s), _) = command, s.text == append {
                return .failed(Failures.statement)
            }
            return nil
        }
        let (result, _) = harness.drive()
        #expect(
            harness.transcript.suffix(5) == [
                "repository: append errors", "repository: ROLLBACK TO metas", "repository: COMMIT", "remote: COMMIT",
                "finish",
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
            harness.transcript.suffix(4) == ["repository: COMMIT", "roll back", "repository: replace errors", "finish"])
        #expect(!harness.ran(.simple(SessionSQL.commit), on: .remote))
        #expect(result == .notCommitted(reason: "Error during snapshot: \(Failures.statement)", countsAsFailure: true))
    }

    // MARK: Every step, failed

    /// Each command of a healthy snapshot, answered with a statement
    /// failure: the snapshot rolls back unless that command's failure is
    /// documented to cost only its own part (a copy, a cleanup,
    /// powa_take_snapshot, appending the errors, the remote's commit).
    @Test(arguments: 0..<(healthyPowa4.count - 1))
    func aFailedStepEndsTheSnapshotUnlessItsFailureCostsOnlyItsPart(index: Int) {
        var harness = SnapshotRunHarness()
        harness.override = { i, command in
            guard i == index else { return nil }
            return command.isCopy ? .copyFailed(.source(Failures.statement)) : .failed(Failures.statement)
        }
        let (result, _) = harness.drive()
        let failed = Self.healthyPowa4[index]
        let costsOnlyItsPart =
            failed.hasPrefix("copy ") || failed == "remote: SAVEPOINT src + cleanup"
            || failed == "repository: take snapshot" || failed == "remote: COMMIT"
        if costsOnlyItsPart {
            #expect(result.isCommitted, "\(failed): \(harness.transcript)")
        } else {
            #expect(harness.commands[index + 1].isRollBack, "\(failed): \(harness.transcript)")
            #expect(
                result == .notCommitted(reason: "Error during snapshot: \(Failures.statement)", countsAsFailure: true))
            #expect(!harness.ran(.simple(SessionSQL.commit), on: .remote))
        }
    }

    /// A broken connection under any step before the commit ends the
    /// snapshot, even where a statement failure would cost only one part.
    @Test(arguments: 1..<(healthyPowa4.count - 3))
    func aBrokenConnectionAtAnyStepEndsTheSnapshot(index: Int) {
        var harness = SnapshotRunHarness()
        harness.override = { i, command in
            guard i == index else { return nil }
            return command.isCopy ? .copyFailed(.source(Failures.broken)) : .failed(Failures.broken)
        }
        let (result, _) = harness.drive()
        #expect(harness.commands[index + 1].isRollBack, "\(harness.transcript)")
        #expect(!result.isCommitted)
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
        harness.override = { index, _ in index == 3 ? .failed(Failures.cancelled) : nil }
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
            i == 4 && index > 4 ? .copyFailed(.source(Failures.statement)) : nil
        }
        harness.interruption = { $0 >= index ? .overBudget : nil }
        let (result, followUps) = harness.drive()
        let message = "Snapshot cancelled after running past its 30 s budget (snapshot_timeout)"
        var recorded = [message]
        // The failed copy's error counts once both its savepoints are rolled back.
        if index > 6 {
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

    var healthyCommitIndex: Int { Self.healthyPowa4.firstIndex(of: "repository: COMMIT")! }

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
                "repository: BEGIN",
                "remote: BEGIN",
                "repository: list datasources",
                "copy pg_stat_statements from remote",
                "remote: RELEASE src",
                "repository: RELEASE data",
                "remote: \(RemoteSQL.now)",
                "remote: \(RemoteSQL.databases)",
                "repository: list db modules",
                "repository: list catalogs",
                "open app",
                "database: BEGIN",
                "copy pg_stat_all_tables from database",
                "database: RELEASE src",
                "repository: RELEASE data",
                "open postgres",
                "database: BEGIN",
                "copy pg_stat_all_tables from database",
                "database: RELEASE src",
                "repository: RELEASE data",
                "repository: SAVEPOINT powa_take_snapshot",
                "repository: take snapshot",
                "repository: RELEASE powa_take_snapshot",
                "repository: set application_name",
                "repository: COMMIT",
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
        #expect(harness.transcript.filter { $0 == "copy pg_class from database" }.count == 2)
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
        harness.interruption = { index in index == 13 ? .stopping : nil }
        let (result, _) = harness.drive()
        #expect(harness.transcript[13] == "copy pg_stat_all_tables from database")
        #expect(harness.transcript.suffix(2) == ["roll back", "finish"])
        #expect(result == .notCommitted(reason: nil, countsAsFailure: false))
    }
}

extension SnapshotRunResult {
    var isCommitted: Bool { if case .committed = self { true } else { false } }
}
