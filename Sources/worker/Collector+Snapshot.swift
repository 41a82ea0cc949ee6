import PostgresClient
import PowaCore
import PowaPostgres
import ProcessSupport

/// One snapshot: every datasource streamed from the remote into the
/// repository's `_tmp` tables, then `powa_take_snapshot`, all in one
/// repository transaction that commits whole or not at all.
///
/// The decisions are `SnapshotRun`'s; this shell opens the connections,
/// carries out its commands with libpq and reports the answers.
extension Collector {
    /// Takes one snapshot; returns true when it committed.
    func takeSnapshot(_ start: SnapshotStart) -> Bool {
        let wallStart = SystemClock.wallNow()
        mailbox.beginSnapshot()
        // With the remote connected (the usual case) the slot is asked for
        // in the same write as the status that says the snapshot runs: the
        // supervisor wakes once for both. A remote to connect first is
        // connected before asking: a hanging server holds no slot.
        let requestsSlotAtOnce = config.usesSnapshotSlots && remote?.connection.isHealthy == true
        if requestsSlotAtOnce { mailbox.clearSlotGrant() }
        reporter.update(after: nil, then: requestsSlotAtOnce ? .slotRequest : nil) {
            $0.snapshotRunning = true
            $0.lastSnapshotStart = wallStart
        }
        var result = SnapshotRunResult.notCommitted(reason: nil, countsAsFailure: true)
        var lateness: Double?
        /// The repository slot, given back with the snapshot's last status.
        var slotHeld = false
        defer {
            reporter.startBudget(at: nil)
            let duration = SystemClock.wallNow() - wallStart
            let stopping = mailbox.isStopping
            reporter.update(after: slotHeld ? slotRelease : nil) {
                $0.snapshotRunning = false
                $0.lastSnapshotDuration = duration
                if let lateness { $0.lastSnapshotLateness = lateness }
                switch result {
                case .committed(let errors, let copied):
                    $0.snapshotsTaken += 1
                    $0.lastError = errors.isEmpty ? nil : errors.joined(separator: "\n")
                    $0.datasourceErrors += errors.count
                    $0.rowsCopied += copied.rows
                    $0.bytesCopied += copied.bytes
                case .notCommitted(_, let countsAsFailure):
                    if countsAsFailure, !stopping { $0.snapshotsFailed += 1 }
                }
            }
            logger.debug("Snapshot \(result.isCommitted ? "committed" : "not committed") in \(Int(duration * 1000)) ms")
        }

        guard let remote = ensureRemote(reportErrors: true) else { return false }
        guard let repository = openRepository(slotRequested: requestsSlotAtOnce) else { return false }
        slotHeld = true
        // Closed before the slot goes back with the status, in one line.
        defer { repository.close() }
        // Reported with the snapshot's end, in the same status line.
        lateness = start.due.map { max(0, SystemClock.now() - $0) } ?? 0
        reporter.startBudget(at: SystemClock.wallNow())
        let tokens = [mailbox.register(remote.connection), mailbox.register(repository.connection)]
        defer { tokens.forEach { mailbox.unregister($0) } }

        var sessions = SnapshotSessions(remote: remote, repository: repository)
        defer { sessions.closeDatabase(mailbox) }
        var run = SnapshotRun(
            SnapshotRun.Context(
                srvid: config.srvid, serverName: config.name,
                repositoryApplicationName: ApplicationName.repository(worker: config.name),
                repositoryExtensions: repository.extensions,
                remoteServerVersionNum: remote.connection.serverVersion, catalogRefresh: start.catalogRefresh,
                budgetSeconds: SnapshotBudget.seconds(for: config),
                quoteIdentifier: repository.quoteIdentifier, quoteLiteral: remote.quoteLiteral, fence: config.fence))
        var step = run.start()
        while true {
            for effect in step.effects {
                switch effect {
                case .log(let level, let message): log(level, message)
                case .closeDatabase: sessions.closeDatabase(mailbox)
                }
            }
            let event: SnapshotRunEvent
            switch step.command {
            case .readRemoteExtensions:
                event = readRemoteExtensions(sessions)
            case .execute(let sql, let side, let preamble):
                event = sessions.session(side).execute(sql, after: preamble)
            case .copy(let copy):
                event = stream(copy, sessions)
            case .openDatabase(let dbname):
                event = openDatabase(dbname, &sessions)
            case .rollBack:
                // Either side may be inside a message of chained copies (a
                // database connection's is closed right after).
                repository.connection.abandonPendingCommand()
                remote.connection.abandonPendingCommand()
                _ = try? repository.run(SessionSQL.rollback)
                _ = try? remote.run(SessionSQL.rollback)
                event = .rolledBack(
                    remoteHealthy: remote.connection.isHealthy, repositoryHealthy: repository.connection.isHealthy)
            case .finish(let finished, let followUps):
                if case .notCommitted(let reason?, _) = finished {
                    reporter.update { $0.lastError = reason }
                }
                for followUp in followUps { carryOut(followUp) }
                result = finished
                return finished.isCommitted
            }
            step = run.next(event, interruption: mailbox.interruption)
        }
    }

    private func readRemoteExtensions(_ sessions: SnapshotSessions) -> SnapshotRunEvent {
        do throws(PostgresError) {
            try sessions.remote.refreshExtensions()
            return .remoteExtensionsRead(sessions.remote.extensions)
        } catch {
            return .failed(StatementFailure(error))
        }
    }

    private func stream(_ copy: SnapshotCopy, _ sessions: SnapshotSessions) -> SnapshotRunEvent {
        do throws(CopyError) {
            let outcome = try sessions.repository.connection.copy(
                from: sessions.session(copy.from).connection, sourceSQL: copy.sourceSQL, targetSQL: copy.targetSQL,
                sourcePreamble: copy.sourcePreamble, targetPreamble: copy.targetPreamble,
                source: CopyMessage(
                    following: copy.sourceFollowing, sent: copy.sourceSent, continues: copy.sourceContinues),
                target: CopyMessage(
                    following: copy.targetFollowing, sent: copy.targetSent, continues: copy.targetContinues))
            return .copied(rows: outcome.rows, bytes: outcome.bytes)
        } catch {
            if case .preamble(let failure) = error { return .preambleFailed(StatementFailure(failure)) }
            return .copyFailed(CopyFailure(error))
        }
    }

    /// Opens one remote database's connection, registered for cancels.
    private func openDatabase(_ dbname: String, _ sessions: inout SnapshotSessions) -> SnapshotRunEvent {
        sessions.closeDatabase(mailbox)
        do throws(PostgresError) {
            let session = try PowaSession.open(
                try remoteParameters.overridingDatabase(dbname),
                applicationName: ApplicationName.worker(config.name),
                statementTimeout: SnapshotBudget.seconds(for: config), secureSearchPath: true)
            sessions.database = (session, mailbox.register(session.connection))
            return .succeeded(rows: [])
        } catch {
            return .failed(StatementFailure(error))
        }
    }

    private func carryOut(_ followUp: SnapshotFollowUp) {
        switch followUp {
        case .disconnectRemote:
            disconnectRemote()
        case .reportNoRemoteConnection:
            reporter.update { $0.status = WorkerStatusText.noRemoteConnection }
        case .recordErrors(let errors, let replace):
            recordErrors(errors, replace: replace)
        }
    }

    private func log(_ level: SnapshotLogLevel, _ message: String) {
        switch level {
        case .debug: logger.debug("\(message)")
        case .info: logger.info("\(message)")
        case .warning: logger.warning("\(message)")
        case .error: logger.error("\(message)")
        }
    }
}

/// The connections one snapshot uses.
struct SnapshotSessions {
    let remote: PowaSession
    let repository: PowaSession
    /// The per-database connection open now, with its cancel registration.
    var database: (session: PowaSession, token: Int?)?

    init(remote: PowaSession, repository: PowaSession) {
        self.remote = remote
        self.repository = repository
    }

    func session(_ side: SnapshotSide) -> PowaSession {
        switch side {
        case .remote: return remote
        case .repository: return repository
        case .database:
            guard let database else {
                preconditionFailure("SnapshotRun used the database connection before opening one")
            }
            return database.session
        }
    }

    mutating func closeDatabase(_ mailbox: CollectorMailbox) {
        guard let (session, token) = database else { return }
        mailbox.unregister(token)
        session.close()
        database = nil
    }
}

extension SnapshotRunResult {
    var isCommitted: Bool {
        if case .committed = self { return true }
        return false
    }
}

extension StatementFailure {
    /// What the snapshot plan needs of libpq's error.
    init(_ error: PostgresError) {
        self.init(sqlState: error.sqlState, message: "\(error)", connectionBroken: error.isConnectionBroken)
    }
}

extension CopyFailure {
    init(_ error: CopyError) {
        switch error {
        case .source(let failure): self = .source(StatementFailure(failure))
        case .targetRefused(let failure): self = .targetRefused(StatementFailure(failure))
        case .target(let failure), .preamble(let failure): self = .target(StatementFailure(failure))
        }
    }
}
