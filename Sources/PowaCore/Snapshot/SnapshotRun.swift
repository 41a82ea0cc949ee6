/// One snapshot's sequence of decisions, as a state machine without I/O:
/// it answers each event with the next command, and the worker only
/// carries the commands out (`Collector.takeSnapshot`).
///
/// The sequence, with the remote and the repository connections open:
/// 1. read the remote's extensions again and check both powa versions; an
///    incompatibility is recorded (replacing the errors) and nothing runs;
/// 2. `BEGIN` on the repository, then on the remote;
/// 3. each global datasource (`SnapshotPlan.datasourceSteps`), then on
///    PoWA 5 each remote database's modules and catalogs
///    (`SnapshotPlan.perDatabasePlan`) over its own connection; each copy
///    in savepoints on both sides (see `CopyStep`), so that a failure costs
///    that copy only and is recorded as an error;
/// 4. with several instances on the repository (`Context.fence`), the
///    fence: the session's idle-in-transaction limit set to the lease, then
///    the ownership row taken `FOR KEY SHARE` at this instance's epoch with
///    a live lease; when the repository no longer says so the snapshot
///    rolls back (another instance may collect the server) and records
///    nothing. The row stays locked until the commit, so a new owner's
///    claim waits for it;
/// 5. `powa_take_snapshot` in its savepoint (a failure is rolled back to it
///    and recorded), the session's name set again, and the errors gathered
///    so far appended to `powa_snapshot_metas.errors` in their savepoint;
/// 6. `COMMIT` on the repository, and only then on the remote, whose
///    transaction holds the cleanups (such as `pg_qualstats_reset()`).
///
/// Statements whose answer needs no decision before the next one on the
/// same connection (a `BEGIN`, a savepoint's `RELEASE`, the session's name,
/// a savepoint taken before a statement) are owed rather than sent alone:
/// they go ahead of that connection's next command, in the same round trip
/// (`SnapshotRunCommand.execute`'s preamble, `SnapshotCopy`'s). Each must
/// succeed, as before; its failure ends the snapshot as it did when it
/// went alone. What the remote owes is sent before the repository's
/// integration begins (its last `RELEASE` alone), so that every remote
/// statement that must succeed is answered before the repository commits;
/// what a per-database connection owes is sent before it closes.
///
/// Consecutive copies of a group (the global datasources, or one remote
/// database's) share one message on each side: the first copy sends every
/// later one's savepoint and COPY after its own, with the `RELEASE`
/// between them, and each server starts the next COPY as soon as the last
/// one ends (`SnapshotCopy.targetFollowing`, `sourceFollowing`). On the
/// source, a message stops at a copy with a cleanup, which runs alone
/// after it. A copy then costs about one round trip instead of three. A
/// failed copy ends both messages (the worker discards what the source
/// still sends), the source is rolled back to its savepoint as after any
/// copy failure, and the next copy starts new messages; the source queries
/// that ran for nothing are read-only.
///
/// What ends a snapshot early, rolled back on both sides:
/// - an interruption (the worker stops, or the snapshot ran past its
///   budget) seen with any answer before the repository's commit;
/// - a statement that must succeed failing (BEGIN, the listings, savepoint
///   statements, the commit); a cancelled one counts as over budget;
/// - a broken connection, even under a statement whose failure alone would
///   cost only its own part.
/// After a stop nothing is recorded. Over budget, the errors go through a
/// new repository connection and the remote connection is dropped. After a
/// failure, the errors replace the last snapshot's over the same repository
/// connection when it is still healthy, otherwise over a new one, and a
/// broken remote connection is dropped. The errors recorded are those
/// gathered so far plus the reason. Every error written over the
/// snapshot's own connection is a `FencedWrite`: refused, like the
/// snapshot, once the instance no longer owns the server.
public struct SnapshotRun {
    /// What the machine needs to know of the worker and its connections.
    public struct Context {
        public var srvid: Int
        /// The worker's name for the remote, for error texts.
        public var serverName: String
        /// The repository session's `application_name`, which
        /// `powa_take_snapshot` changes as it goes.
        public var repositoryApplicationName: String
        /// The repository's extensions, read when its session opened.
        public var repositoryExtensions: InstalledExtensions
        /// The remote's `server_version_num`.
        public var remoteServerVersionNum: Int
        /// The forced catalog refresh this snapshot takes, if any.
        public var catalogRefresh: CatalogRefreshRequest?
        /// Seconds of the snapshot's budget, for the error text.
        public var budgetSeconds: Double
        /// Quotes an identifier (libpq's `PQescapeIdentifier` in the worker).
        public var quoteIdentifier: (String) -> String
        /// Quotes a literal (libpq's `PQescapeLiteral` in the worker).
        public var quoteLiteral: (String) -> String
        /// Set by a supervisor that coordinates with other instances: the
        /// ownership checked before `powa_take_snapshot` and before any
        /// error is written.
        public var fence: OwnershipFence?

        public init(
            srvid: Int, serverName: String, repositoryApplicationName: String,
            repositoryExtensions: InstalledExtensions, remoteServerVersionNum: Int,
            catalogRefresh: CatalogRefreshRequest?, budgetSeconds: Double,
            quoteIdentifier: @escaping (String) -> String, quoteLiteral: @escaping (String) -> String,
            fence: OwnershipFence? = nil
        ) {
            self.fence = fence
            self.srvid = srvid
            self.serverName = serverName
            self.repositoryApplicationName = repositoryApplicationName
            self.repositoryExtensions = repositoryExtensions
            self.remoteServerVersionNum = remoteServerVersionNum
            self.catalogRefresh = catalogRefresh
            self.budgetSeconds = budgetSeconds
            self.quoteIdentifier = quoteIdentifier
            self.quoteLiteral = quoteLiteral
        }
    }

    /// Why a snapshot ends before its commit.
    enum Abort: Error, Equatable {
        case stopping
        case overBudget
        case failed(StatementFailure)
        /// The repository no longer says this instance owns the server.
        case fenced
    }

    private enum CopyPhase {
        case streaming
        case rollingBackSource(CopyFailure)
        case rollingBackData(CopyFailure)
        case cleaningUp(String)
        case rollingBackCleanup(String, StatementFailure)
    }

    private enum IntegratePhase {
        case taking
        case rollingBack(StatementFailure)
        case clearingErrors(StatementFailure)
        case appendingErrors
        case rollingBackMetas(StatementFailure)
    }

    private enum State {
        case created
        case readingExtensions
        case recordingIncompatibility(String, FencedWrite)
        case listingDatasources
        case copying(CopyPhase)
        case readingRemoteNow
        case listingRemoteDatabases
        case listingModules
        case listingCatalogs
        case openingDatabase(DatabaseWork)
        /// What a connection owed went alone: nothing comes next on it
        /// before the point where it must be answered.
        case sendingOwed(then: OwedFollowUp)
        /// The fence before `powa_take_snapshot`, after the session's
        /// idle-in-transaction limit.
        case checkingFence
        case integrating(IntegratePhase)
        case committingRepository
        case committingRemote
        case rollingBack(Abort)
        case recordingAbort(String, FencedWrite, followUps: [SnapshotFollowUp])
        case finished
    }

    /// Where the snapshot goes once a connection's owed statements went.
    private enum OwedFollowUp {
        case integrate
        case nextDatabase
    }

    private let context: Context
    private var state = State.created
    /// Statements each connection owes, sent ahead of its next command.
    private var owed = OwedStatements()
    private var effects: [SnapshotRunEffect] = []
    /// Every error gathered so far, in order.
    private var errors: [String] = []
    private var copied = CopiedVolume()
    private var interruption: SnapshotInterruption?

    private var sql: RepositorySQL?
    private var remoteSchemas: [String: String] = [:]
    private var repositorySchemas: [String: String] = [:]
    private var collectsPerDatabaseData = false
    private var pendingDatasources: ArraySlice<DatasourceStep> = []
    private var remoteNow = ""
    private var remoteDatabases: [String] = []
    private var databaseModules: [DbModuleRow] = []
    private var catalogs: [CatalogRow] = []
    private var pendingDatabases: ArraySlice<DatabaseWork> = []
    private var pendingCopies: ArraySlice<CopyStep> = []
    /// The copy in progress, with what its source side owed and sent with it.
    private var copy: (step: CopyStep, side: SnapshotSide, sourcePreamble: [String], sourceSent: Bool)?
    /// How many of the next copies' repository statements are in the
    /// repository's message in progress (sent with an earlier copy).
    private var chainedTargets = 0
    /// The same for the next copies' source statements.
    private var chainedSources = 0

    public init(_ context: Context) {
        self.context = context
    }

    /// The first step: read the remote's extensions again.
    public mutating func start() -> SnapshotRunStep {
        guard case .created = state else { preconditionFailure("SnapshotRun.start called twice") }
        state = .readingExtensions
        return emit(.readRemoteExtensions)
    }

    /// The next step, given the answer to the last command.
    ///
    /// - Parameter interruption: why the worker wants the snapshot to end,
    ///   if it does; read at the moment the answer arrived.
    public mutating func next(_ event: SnapshotRunEvent, interruption: SnapshotInterruption?) -> SnapshotRunStep {
        if let interruption { self.interruption = interruption }
        do throws(Abort) {
            if let interruption, interruptible(by: event) {
                throw interruption == .stopping ? .stopping : .overBudget
            }
            return try advance(event)
        } catch {
            // ROLLBACK undoes whatever was owed, and ends a message of
            // chained copies.
            owed = OwedStatements()
            chainedTargets = 0
            chainedSources = 0
            state = .rollingBack(error)
            return emit(.rollBack)
        }
    }

    /// An interruption ends the snapshot at any answer before the commit,
    /// but not the commit that succeeded, nor what comes after it or after
    /// the decision to end.
    private func interruptible(by event: SnapshotRunEvent) -> Bool {
        switch state {
        case .committingRepository:
            if case .succeeded = event { return false }
            return true
        case .committingRemote, .rollingBack, .recordingAbort, .recordingIncompatibility, .finished, .created:
            return false
        default:
            return true
        }
    }

    private mutating func advance(_ event: SnapshotRunEvent) throws(Abort) -> SnapshotRunStep {
        // What was sent ahead of a command must succeed: its failure costs
        // the snapshot, as when it went alone.
        if case .preambleFailed(let failure) = event {
            switch state {
            case .recordingIncompatibility, .rollingBack, .recordingAbort: unexpected(event)
            default: throw failure.isQueryCanceled ? .overBudget : .failed(failure)
            }
        }
        switch state {
        case .created, .finished:
            preconditionFailure("SnapshotRun answered \(event) outside of a run")

        case .readingExtensions:
            switch event {
            case .remoteExtensionsRead(let remote):
                return checkVersions(repository: context.repositoryExtensions, remote: remote)
            case .failed(let failure):
                throw .failed(failure)
            default:
                unexpected(event)
            }

        case .recordingIncompatibility(let message, var write):
            // Whether the error could be recorded or not, nothing else runs.
            guard let step = writeStep(&write, event) else {
                return finish(.notCommitted(reason: message, countsAsFailure: interruption != .stopping))
            }
            state = .recordingIncompatibility(message, write)
            return step

        case .listingDatasources:
            let datasources: [DatasourceRow] = decode(try rows(event), as: "datasource") {
                row throws(RowDecodingError) in
                try DatasourceRow(row: row)
            }
            if datasources.isEmpty { log(.info, "No datasource configured for server \(context.srvid)") }
            pendingDatasources =
                SnapshotPlan.datasourceSteps(
                    srvid: context.srvid, serverName: context.serverName, datasources: datasources,
                    remoteSchemas: remoteSchemas, repositorySchemas: repositorySchemas,
                    quoteIdentifier: context.quoteIdentifier)[...]
            return nextDatasource()

        case .copying(let phase):
            return try advanceCopy(phase, event)

        case .readingRemoteNow:
            remoteNow = (try rows(event).first?.first ?? nil) ?? ""
            state = .listingRemoteDatabases
            return execute(.simple(RemoteSQL.databases), on: .remote)

        case .listingRemoteDatabases:
            remoteDatabases = try rows(event).compactMap { $0.first ?? nil }
            if let statement = statements.databaseModules(
                srvid: context.srvid, serverVersionNum: context.remoteServerVersionNum)
            {
                state = .listingModules
                return execute(.parameterized(statement), on: .repository)
            }
            return listCatalogs()

        case .listingModules:
            databaseModules = decode(try rows(event), as: "db module") { row throws(RowDecodingError) in
                try DbModuleRow(row: row)
            }
            return listCatalogs()

        case .listingCatalogs:
            catalogs = decode(try rows(event), as: "catalog") { row throws(RowDecodingError) in
                try CatalogRow(row: row)
            }
            return planDatabases()

        case .openingDatabase(let work):
            switch event {
            case .succeeded:
                owe(.simple(SessionSQL.begin), on: .database)
                pendingCopies = work.copies[...]
                return nextDatabaseCopy()
            case .failed(let failure):
                errors.append(SnapshotErrorText.databaseConnectionFailed(dbname: work.dbname, detail: failure.message))
                return nextDatabase()
            default:
                unexpected(event)
            }

        case .sendingOwed(let followUp):
            _ = try rows(event)
            switch followUp {
            case .integrate: return integrate()
            case .nextDatabase: return nextDatabaseCopy()
            }

        case .integrating(let phase):
            return try advanceIntegration(phase, event)

        case .committingRepository:
            _ = try rows(event)
            state = .committingRemote
            precondition(owed.isEmpty(.remote), "SnapshotRun: the remote's owed statements must go before the commit")
            return emit(.execute(.simple(SessionSQL.commit), on: .remote))

        case .committingRemote:
            var followUps: [SnapshotFollowUp] = []
            if case .failed(let failure) = event {
                log(
                    .warning,
                    "Could not commit on the remote server: \(failure) (its cleanups, such as pg_qualstats_reset(), did not happen: the next snapshot collects those rows again)"
                )
                followUps.append(.disconnectRemote)
            }
            for error in errors { log(.warning, error) }
            return finish(.committed(errors: errors, copied: copied), followUps: followUps)

        case .rollingBack(let abort):
            guard case .rolledBack(let remoteHealthy, let repositoryHealthy) = event else { unexpected(event) }
            return endAborted(abort, remoteHealthy: remoteHealthy, repositoryHealthy: repositoryHealthy)

        case .recordingAbort(let message, var write, let followUps):
            guard let step = writeStep(&write, event) else {
                return finish(
                    .notCommitted(reason: message, countsAsFailure: interruption != .stopping), followUps: followUps)
            }
            state = .recordingAbort(message, write, followUps: followUps)
            return step

        case .checkingFence:
            if try rows(event).isEmpty { throw .fenced }
            return takeSnapshot()
        }
    }

    // MARK: Versions

    private mutating func checkVersions(repository: InstalledExtensions, remote: InstalledExtensions) -> SnapshotRunStep
    {
        let version: PowaVersion
        do throws(PowaVersionError) {
            version = try PowaVersion.validated(extversion: repository.powaVersionText, on: .repository)
            let remoteVersion = try PowaVersion.validated(extversion: remote.powaVersionText, on: .remote)
            try PowaVersion.checkCompatible(repository: version, remote: remoteVersion)
        } catch {
            let message = "\(error)"
            log(.error, message)
            var write = fencedWrite(errorStatements.replaceErrors(srvid: context.srvid, errors: [message]))
            let step = writeStep(&write, nil)!
            state = .recordingIncompatibility(message, write)
            return step
        }
        sql = Self.statements(for: repository, version: version, quoteIdentifier: context.quoteIdentifier)
        remoteSchemas = remote.schemas
        repositorySchemas = repository.schemas
        collectsPerDatabaseData = version.collectsPerDatabaseData
        // Both BEGINs go with their connection's first statement.
        owe(.simple(SessionSQL.begin), on: .repository)
        owe(.simple(SessionSQL.begin), on: .remote)
        state = .listingDatasources
        return execute(.parameterized(statements.globalDatasources(srvid: context.srvid)), on: .repository)
    }

    /// The repository's statements for its powa version; without a valid
    /// version, PoWA 4.1's, enough to record errors (the same everywhere).
    static func statements(
        for repository: InstalledExtensions, version: PowaVersion?, quoteIdentifier: (String) -> String
    ) -> RepositorySQL {
        RepositorySQL(
            version: version ?? repository.powaVersionText.flatMap(PowaVersion.init(extversion:))
                ?? PowaVersion(major: 4, minor: 1),
            powaSchema: repository.schemas["powa"] ?? "public", quoteIdentifier: quoteIdentifier)
    }

    private var statements: RepositorySQL {
        guard let sql else { preconditionFailure("SnapshotRun: statements used before the version check") }
        return sql
    }

    /// Statements that record errors, also before (or without) a valid
    /// version.
    private var errorStatements: RepositorySQL {
        sql
            ?? Self.statements(
                for: context.repositoryExtensions, version: nil, quoteIdentifier: context.quoteIdentifier)
    }

    // MARK: Datasources and databases

    private mutating func nextDatasource() -> SnapshotRunStep {
        while let step = pendingDatasources.popFirst() {
            switch step {
            case .copy(let copy):
                return startCopy(copy, from: .remote)
            case .skip(_, let error):
                errors.append(error)
            case .ignore(_, let warning):
                log(.warning, warning)
            }
        }
        guard collectsPerDatabaseData else { return integrate() }
        state = .readingRemoteNow
        return execute(.simple(RemoteSQL.now), on: .remote)
    }

    private mutating func listCatalogs() -> SnapshotRunStep {
        guard
            let statement = statements.catalogs(
                srvid: context.srvid, serverVersionNum: context.remoteServerVersionNum,
                forceRefresh: context.catalogRefresh != nil)
        else { return planDatabases() }
        state = .listingCatalogs
        return execute(.parameterized(statement), on: .repository)
    }

    private mutating func planDatabases() -> SnapshotRunStep {
        let plan = SnapshotPlan.perDatabasePlan(
            srvid: context.srvid, remoteDatabases: remoteDatabases, databaseModules: databaseModules,
            catalogs: catalogs, catalogRefresh: context.catalogRefresh, remoteNow: remoteNow,
            quoteLiteral: context.quoteLiteral)
        for warning in plan.warnings { log(.warning, warning) }
        pendingDatabases = plan.databases[...]
        return nextDatabase()
    }

    private mutating func nextDatabase() -> SnapshotRunStep {
        guard let work = pendingDatabases.popFirst() else { return integrate() }
        log(.debug, "Working on remote database \(work.dbname)")
        state = .openingDatabase(work)
        return emit(.openDatabase(work.dbname))
    }

    private mutating func nextDatabaseCopy() -> SnapshotRunStep {
        if let copy = pendingCopies.popFirst() { return startCopy(copy, from: .database) }
        if let step = sendOwed(on: .database, then: .nextDatabase) { return step }
        effects.append(.closeDatabase)
        return nextDatabase()
    }

    /// Decodes listing rows; a row that does not decode is an error of the
    /// snapshot, not the end of it.
    private mutating func decode<Row>(
        _ rows: [[String?]], as what: String, _ make: ([String?]) throws(RowDecodingError) -> Row
    ) -> [Row] {
        var decoded: [Row] = []
        for row in rows {
            do throws(RowDecodingError) {
                decoded.append(try make(row))
            } catch {
                errors.append("Ignored a \(what) row: \(error)")
            }
        }
        return decoded
    }

    // MARK: One copy

    private mutating func startCopy(_ step: CopyStep, from side: SnapshotSide) -> SnapshotRunStep {
        log(.debug, "Working on \(step.name)")
        state = .copying(.streaming)
        // Each savepoint travels with its side's COPY, and so does what
        // each side owes.
        var command = SnapshotCopy(
            name: step.name, from: side, sourceSQL: Self.sourceSQL(step), targetSQL: Self.targetSQL(step))
        // The later copies matter only to a side whose message starts here.
        let following = chainedSources == 0 || chainedTargets == 0 ? followingCopies(from: side) : []
        // On the source, up to the first copy with a cleanup, that one included.
        let sourceChain = step.cleanup == nil ? following : []
        let sourceEnd = sourceChain.firstIndex { $0.cleanup != nil }.map { $0 + 1 } ?? sourceChain.count
        let source = chainPart(
            \.chainedSources, on: side, release: Savepoint.source.release,
            next: sourceChain.prefix(sourceEnd).map(Self.sourceSQL))
        command.sourcePreamble = source.preamble
        command.sourceFollowing = source.following
        command.sourceSent = source.sent
        command.sourceContinues = source.continues
        copy = (step, side, source.preamble, source.sent)
        let target = chainPart(
            \.chainedTargets, on: .repository, release: Savepoint.data.release, next: following.map(Self.targetSQL))
        command.targetPreamble = target.preamble
        command.targetFollowing = target.following
        command.targetSent = target.sent
        command.targetContinues = target.continues
        return emit(.copy(command))
    }

    /// One side's part of a copy in a message of chained copies.
    private struct ChainPart {
        var preamble: [String]
        var following: [String] = []
        var sent = false
        var continues: Bool
    }

    /// This copy's part on `side`: read from an earlier copy's message
    /// while `chained` says its statements are in it (the earlier copy's
    /// `release` first), otherwise sent now after what `side` owes, with the
    /// statements of the copies `next` names after it.
    private mutating func chainPart(
        _ chained: WritableKeyPath<SnapshotRun, Int>, on side: SnapshotSide, release: String, next: [String]
    ) -> ChainPart {
        if self[keyPath: chained] > 0 {
            self[keyPath: chained] -= 1
            return ChainPart(preamble: [release], sent: true, continues: self[keyPath: chained] > 0)
        }
        self[keyPath: chained] = next.count
        return ChainPart(
            preamble: owed.takeText(side), following: next.flatMap { [release, $0] }, continues: !next.isEmpty)
    }

    private static func sourceSQL(_ step: CopyStep) -> String {
        Savepoint.source.create + "; " + step.source
    }

    private static func targetSQL(_ step: CopyStep) -> String {
        Savepoint.data.create + "; " + step.target
    }

    /// The copies after the one starting, in the same group, in order.
    private func followingCopies(from side: SnapshotSide) -> [CopyStep] {
        if side == .database { return Array(pendingCopies) }
        return pendingDatasources.compactMap { if case .copy(let copy) = $0 { copy } else { nil } }
    }

    private mutating func advanceCopy(_ phase: CopyPhase, _ event: SnapshotRunEvent) throws(Abort) -> SnapshotRunStep {
        guard let (step, side, sourcePreamble, sourceSent) = copy else {
            preconditionFailure("SnapshotRun: copy answered without a copy")
        }
        switch phase {
        case .streaming:
            switch event {
            case .copied(let rows, let bytes):
                // Both releases go with their connection's next statement
                // (the repository's is in its message already when the
                // next copy's target follows).
                if chainedSources == 0 { owe(.simple(Savepoint.source.release), on: side) }
                if chainedTargets == 0 { owe(.simple(Savepoint.data.release), on: .repository) }
                log(.debug, "\(step.name): \(rows) rows, \(bytes) bytes")
                copied.rows += rows
                copied.bytes += bytes
                return cleanUp(step, on: side)
            case .copyFailed(let failure):
                // The failed side skipped the rest of its message, and the
                // worker discarded the rest of the other's.
                chainedTargets = 0
                chainedSources = 0
                if failure.underlying.connectionBroken { throw .failed(failure.underlying) }
                // A refused target means the source's statements never
                // went out, what the source owed with them included
                // (unless an earlier copy sent them).
                if case .targetRefused = failure, !sourceSent {
                    owed.restore(sourcePreamble, on: side)
                    state = .copying(.rollingBackData(failure))
                    return execute(.simple(Savepoint.data.rollback), on: .repository)
                }
                state = .copying(.rollingBackSource(failure))
                return execute(.simple(Savepoint.source.rollback), on: side)
            default:
                unexpected(event)
            }
        case .rollingBackSource(let failure):
            _ = try rows(event)
            state = .copying(.rollingBackData(failure))
            return execute(.simple(Savepoint.data.rollback), on: .repository)
        case .rollingBackData(let failure):
            _ = try rows(event)
            switch failure {
            case .source(let error):
                errors.append(SnapshotErrorText.sourceFailed(datasource: step.name, detail: error.message))
            case .target(let error), .targetRefused(let error):
                errors.append(SnapshotErrorText.insertFailed(datasource: step.name, detail: error.message))
            }
            return cleanUp(step, on: side)
        case .cleaningUp(let cleanup):
            switch try partOutcome(event) {
            case .success:
                owe(.simple(Savepoint.source.release), on: side)
                return copyDone(from: side)
            case .failure(let failure):
                state = .copying(.rollingBackCleanup(cleanup, failure))
                return execute(.simple(Savepoint.source.rollback), on: side)
            }
        case .rollingBackCleanup(let cleanup, let failure):
            _ = try rows(event)
            errors.append(SnapshotErrorText.cleanupFailed(cleanup: cleanup, detail: failure.message))
            return copyDone(from: side)
        }
    }

    /// The datasource's cleanup, run even when its copy failed.
    private mutating func cleanUp(_ step: CopyStep, on side: SnapshotSide) -> SnapshotRunStep {
        switch step.cleanup {
        case nil:
            return copyDone(from: side)
        case .unresolvable(let error)?:
            errors.append(error)
            return copyDone(from: side)
        case .run(let cleanup)?:
            log(.debug, "Calling \(cleanup)...")
            state = .copying(.cleaningUp(cleanup))
            return execute(.simple(Savepoint.source.create + "; " + cleanup), on: side)
        }
    }

    private mutating func copyDone(from side: SnapshotSide) -> SnapshotRunStep {
        copy = nil
        return side == .database ? nextDatabaseCopy() : nextDatasource()
    }

    // MARK: Integration and commit

    /// The fence first, when there is one: the lock it takes lasts until
    /// the commit, so a worker frozen from here on must not hold it past a
    /// lease.
    private mutating func integrate() -> SnapshotRunStep {
        // Every remote statement that must succeed is answered before the
        // repository can commit.
        if let step = sendOwed(on: .remote, then: .integrate) { return step }
        guard let fence = context.fence else { return takeSnapshot() }
        owe(.parameterized(CoordinationSQL.idleInTransactionTimeout(fence)), on: .repository)
        state = .checkingFence
        return execute(.parameterized(CoordinationSQL.fence(srvid: context.srvid, fence)), on: .repository)
    }

    private mutating func takeSnapshot() -> SnapshotRunStep {
        log(.debug, "Calling powa_take_snapshot(\(context.srvid))...")
        owe(.simple(Savepoint.takeSnapshot.create), on: .repository)
        state = .integrating(.taking)
        return execute(.parameterized(statements.takeSnapshot(srvid: context.srvid)), on: .repository)
    }

    private mutating func advanceIntegration(_ phase: IntegratePhase, _ event: SnapshotRunEvent) throws(Abort)
        -> SnapshotRunStep
    {
        switch phase {
        case .taking:
            switch try partOutcome(event) {
            case .success(let rows):
                let failedFunctions = (rows.first?.first ?? nil).flatMap { Int($0) } ?? 0
                if failedFunctions != 0 {
                    log(.warning, "Number of errors during snapshot: \(failedFunctions)")
                    log(.warning, " Check the logs on the repository server")
                }
                owe(.simple(Savepoint.takeSnapshot.release), on: .repository)
                return recordErrors()
            case .failure(let failure):
                state = .integrating(.rollingBack(failure))
                return execute(.simple(Savepoint.takeSnapshot.rollback), on: .repository)
            }
        case .rollingBack(let failure):
            _ = try rows(event)
            state = .integrating(.clearingErrors(failure))
            return execute(.parameterized(statements.clearErrors(srvid: context.srvid)), on: .repository)
        case .clearingErrors(let failure):
            _ = try rows(event)
            errors.append(SnapshotErrorText.takeSnapshotFailed(srvid: context.srvid, detail: failure.message))
            return recordErrors()
        case .appendingErrors:
            switch try partOutcome(event) {
            case .success:
                owe(.simple(Savepoint.metas.release), on: .repository)
                return commit()
            case .failure(let failure):
                state = .integrating(.rollingBackMetas(failure))
                return execute(.simple(Savepoint.metas.rollback), on: .repository)
            }
        case .rollingBackMetas(let failure):
            _ = try rows(event)
            log(
                .warning,
                "Could not report errors for server \(context.srvid): \(failure) (they are in this log only; check the repository's log)"
            )
            return commit()
        }
    }

    /// The session's name set again (`powa_take_snapshot` renames the
    /// session as it goes), then the errors gathered so far appended in
    /// their savepoint, or the commit when there are none.
    private mutating func recordErrors() -> SnapshotRunStep {
        owe(.parameterized(SessionSQL.setApplicationName(context.repositoryApplicationName)), on: .repository)
        guard !errors.isEmpty else { return commit() }
        owe(.simple(Savepoint.metas.create), on: .repository)
        state = .integrating(.appendingErrors)
        return execute(.parameterized(statements.appendErrors(srvid: context.srvid, errors: errors)), on: .repository)
    }

    private mutating func commit() -> SnapshotRunStep {
        state = .committingRepository
        return execute(.simple(SessionSQL.commit), on: .repository)
    }

    // MARK: Ending

    private mutating func endAborted(_ abort: Abort, remoteHealthy: Bool, repositoryHealthy: Bool) -> SnapshotRunStep {
        switch abort {
        case .fenced:
            // Nothing is written: the server is, or is about to be, another
            // instance's, and its errors are that instance's to record.
            let message =
                "Snapshot rolled back: this instance no longer owns server \(context.srvid)"
                + " (epoch \(context.fence?.epoch ?? 0) or its lease ended)"
            log(.error, message)
            return finish(.notCommitted(reason: message, countsAsFailure: interruption != .stopping))
        case .stopping:
            log(.info, "Snapshot cancelled: the worker is stopping; nothing of it was committed")
            return finish(.notCommitted(reason: nil, countsAsFailure: false))
        case .overBudget:
            let message =
                "Snapshot cancelled after running past its \(Int(context.budgetSeconds)) s budget (snapshot_timeout)"
            log(.error, message)
            // The connections may be in any state after a cancel: start afresh.
            return finish(
                .notCommitted(reason: message, countsAsFailure: interruption != .stopping),
                followUps: [.disconnectRemote, .recordErrors(errors + [message], replace: true)])
        case .failed(let failure):
            let message = "Error during snapshot: \(failure)"
            log(.error, message)
            let followUps: [SnapshotFollowUp] = remoteHealthy ? [] : [.disconnectRemote, .reportNoRemoteConnection]
            guard repositoryHealthy else {
                return finish(
                    .notCommitted(reason: message, countsAsFailure: interruption != .stopping),
                    followUps: followUps + [.recordErrors(errors + [message], replace: true)])
            }
            var write = fencedWrite(errorStatements.replaceErrors(srvid: context.srvid, errors: errors + [message]))
            let step = writeStep(&write, nil)!
            state = .recordingAbort(message, write, followUps: followUps)
            return step
        }
    }

    private mutating func finish(_ result: SnapshotRunResult, followUps: [SnapshotFollowUp] = []) -> SnapshotRunStep {
        state = .finished
        return emit(.finish(result, followUps: followUps))
    }

    // MARK: Helpers

    /// `sql` goes ahead of `side`'s next command.
    private mutating func owe(_ sql: SnapshotSQL, on side: SnapshotSide) {
        owed.append(sql, on: side)
    }

    /// Runs `sql` on `side`, after what that connection owes.
    private mutating func execute(_ sql: SnapshotSQL, on side: SnapshotSide) -> SnapshotRunStep {
        precondition(
            (side == .repository ? chainedTargets : chainedSources) == 0,
            "SnapshotRun: a statement inside a message of chained copies")
        return emit(.execute(sql, on: side, after: owed.take(side)))
    }

    /// Sends what `side` owes, when it owes anything, as a command of its
    /// own (the last statement as the command's, the others ahead of it);
    /// nil when it owes nothing.
    private mutating func sendOwed(on side: SnapshotSide, then followUp: OwedFollowUp) -> SnapshotRunStep? {
        var statements = owed.take(side)
        guard let last = statements.popLast() else { return nil }
        state = .sendingOwed(then: followUp)
        return emit(.execute(last, on: side, after: statements))
    }

    private func fencedWrite(_ statement: SQLStatement) -> FencedWrite {
        FencedWrite(statement, srvid: context.srvid, fence: context.fence)
    }

    /// Starts `write` (`event` nil) or answers it; nil once it is over,
    /// whatever its outcome: an error that cannot be recorded is in the log.
    private mutating func writeStep(_ write: inout FencedWrite, _ event: SnapshotRunEvent?) -> SnapshotRunStep? {
        let next: FencedWrite.Step
        switch event {
        case nil: next = write.start()
        case .succeeded(let rows)?: next = write.next(.success(rows))
        case .failed(let failure)?: next = write.next(.failure(failure))
        case let other?: unexpected(other)
        }
        switch next {
        case .execute(let sql):
            return emit(.execute(sql, on: .repository))
        case .finished(.notOwner):
            log(.debug, "Not recording errors for server \(context.srvid): this instance no longer owns it")
            return nil
        case .finished:
            return nil
        }
    }

    /// The rows of a statement that must succeed; its failure ends the
    /// snapshot (a cancelled one means the budget ran out).
    private func rows(_ event: SnapshotRunEvent) throws(Abort) -> [[String?]] {
        switch event {
        case .succeeded(let rows): return rows
        case .failed(let failure): throw failure.isQueryCanceled ? .overBudget : .failed(failure)
        default: unexpected(event)
        }
    }

    /// The outcome of a statement whose failure costs only its own part of
    /// the snapshot; a broken connection still ends the snapshot.
    private func partOutcome(_ event: SnapshotRunEvent) throws(Abort) -> Result<[[String?]], StatementFailure> {
        switch event {
        case .succeeded(let rows): return .success(rows)
        case .failed(let failure) where failure.connectionBroken: throw .failed(failure)
        case .failed(let failure): return .failure(failure)
        default: unexpected(event)
        }
    }

    private func unexpected(_ event: SnapshotRunEvent) -> Never {
        preconditionFailure("SnapshotRun: \(event) does not answer the last command (in \(state))")
    }

    private mutating func log(_ level: SnapshotLogLevel, _ message: String) {
        effects.append(.log(level, message))
    }

    private mutating func emit(_ command: SnapshotRunCommand) -> SnapshotRunStep {
        defer { effects = [] }
        return SnapshotRunStep(effects: effects, command: command)
    }
}
