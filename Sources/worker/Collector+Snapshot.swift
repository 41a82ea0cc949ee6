import PostgresClient
import PowaCore
import PowaPostgres
import ProcessSupport

/// Why a snapshot ended before its commit.
enum SnapshotAbort: Error {
    /// A connection broke or a statement that must succeed failed.
    case failed(PostgresError)
    /// The worker is stopping, or the snapshot ran past its budget.
    case cancelled
}

/// One snapshot: every datasource streamed from the remote into the
/// repository's `_tmp` tables, then `powa_take_snapshot`, all in one
/// repository transaction that commits whole or not at all.
extension Collector {
    /// Takes one snapshot; returns true when it committed.
    func takeSnapshot(_ start: SnapshotStart) -> Bool {
        let wallStart = SystemClock.wallNow()
        mailbox.beginSnapshot()
        reporter.update {
            $0.snapshotRunning = true
            $0.lastSnapshotStart = wallStart
        }
        var committed = false
        var errors: [String] = []
        copiedInSnapshot = CopiedVolume()
        defer {
            let duration = SystemClock.wallNow() - wallStart
            let copied = copiedInSnapshot
            let stopping = mailbox.isStopping
            reporter.update {
                $0.snapshotRunning = false
                $0.lastSnapshotDuration = duration
                if committed {
                    $0.snapshotsTaken += 1
                    $0.lastError = errors.isEmpty ? nil : errors.joined(separator: "\n")
                    $0.datasourceErrors += errors.count
                    $0.rowsCopied += copied.rows
                    $0.bytesCopied += copied.bytes
                } else if !stopping {
                    $0.snapshotsFailed += 1
                }
            }
            logger.debug("Snapshot \(committed ? "committed" : "not committed") in \(Int(duration * 1000)) ms")
        }

        guard let remote = ensureRemote(reportErrors: true) else { return false }
        guard let repository = openRepository() else { return false }
        defer { closeRepository(repository) }

        let versions: (repository: PowaVersion, remote: PowaVersion)
        do {
            try remote.refreshExtensions()
        } catch {
            handleAbort(.failed(error), remote: remote, repository: repository, errors: [])
            return false
        }
        do throws(PowaVersionError) {
            let repositoryVersion = try PowaVersion.validated(extversion: repository.extensions.powaVersionText, on: .repository)
            let remoteVersion = try PowaVersion.validated(extversion: remote.extensions.powaVersionText, on: .remote)
            try PowaVersion.checkCompatible(repository: repositoryVersion, remote: remoteVersion)
            versions = (repositoryVersion, remoteVersion)
        } catch {
            let message = "\(error)"
            logger.error("\(message)")
            reporter.update { $0.lastError = message }
            _ = try? repository.run(repository.repositoryStatements().replaceErrors(srvid: config.srvid, errors: [message]))
            return false
        }
        let sql = repository.repositoryStatements(version: versions.repository)

        let tokens = [mailbox.register(remote.connection), mailbox.register(repository.connection)]
        defer { tokens.forEach { mailbox.unregister($0) } }
        do throws(SnapshotAbort) {
            try step { try repository.run(SessionSQL.begin) }
            try step { try remote.run(SessionSQL.begin) }
            errors += try collectDatasources(sql: sql, remote: remote, repository: repository)
            if versions.repository.collectsPerDatabaseData {
                errors += try collectPerDatabase(sql: sql, start: start, remote: remote, repository: repository)
            }
            errors += try integrate(sql: sql, repository: repository, errors: errors)
            try checkNotCancelled()
            try step { try repository.run(SessionSQL.commit) }
            committed = true
            // The remote's transaction holds the cleanups (such as
            // pg_qualstats_reset): committed only once the data is safe.
            do {
                try remote.run(SessionSQL.commit)
            } catch {
                logger.warning("Could not commit on the remote server: \(error) (its cleanups, such as pg_qualstats_reset(), did not happen: the next snapshot collects those rows again)")
                disconnectRemote()
            }
            for error in errors { logger.warning("\(error)") }
            return true
        } catch {
            handleAbort(error, remote: remote, repository: repository, errors: errors)
            return false
        }
    }

    /// Global datasources, each in savepoints on both sides.
    private func collectDatasources(
        sql: RepositorySQL, remote: PowaSession, repository: PowaSession
    ) throws(SnapshotAbort) -> [String] {
        // No savepoint around the listing queries, unlike the reference:
        // when one fails the snapshot cannot go on anyway and rolls back.
        let rows = try step { try repository.run(sql.globalDatasources(srvid: config.srvid)).rows }
        var datasources: [DatasourceRow] = []
        var errors: [String] = []
        for row in rows {
            do {
                datasources.append(try DatasourceRow(row: row.values))
            } catch {
                errors.append("Ignored a datasource row: \(error)")
            }
        }
        if datasources.isEmpty { logger.info("No datasource configured for server \(config.srvid)") }
        let steps = SnapshotPlan.datasourceSteps(
            srvid: config.srvid, serverName: config.name, datasources: datasources,
            remoteSchemas: remote.extensions.schemas, repositorySchemas: repository.extensions.schemas,
            quoteIdentifier: repository.quoteIdentifier)
        for datasourceStep in steps {
            try checkNotCancelled()
            switch datasourceStep {
            case .copy(let copy):
                errors += try runCopy(copy, from: remote, to: repository)
            case .skip(_, let error):
                errors.append(error)
            case .ignore(_, let warning):
                logger.warning("\(warning)")
            }
        }
        return errors
    }

    /// PoWA 5's per-database modules and catalogs, one connection per
    /// remote database that has work.
    private func collectPerDatabase(
        sql: RepositorySQL, start: SnapshotStart, remote: PowaSession, repository: PowaSession
    ) throws(SnapshotAbort) -> [String] {
        let serverVersionNum = remote.connection.serverVersion
        let now = try step { try remote.run(RemoteSQL.now).first?[0] } ?? ""
        let databases = try step { try remote.run(RemoteSQL.databases).rows.compactMap { $0[0] } }
        var errors: [String] = []
        var modules: [DbModuleRow] = []
        var catalogs: [CatalogRow] = []
        if let statement = sql.databaseModules(srvid: config.srvid, serverVersionNum: serverVersionNum) {
            let rows = try step { try repository.run(statement).rows }
            for row in rows {
                do { modules.append(try DbModuleRow(row: row.values)) } catch { errors.append("Ignored a db module row: \(error)") }
            }
        }
        if let statement = sql.catalogs(
            srvid: config.srvid, serverVersionNum: serverVersionNum, forceRefresh: start.catalogRefresh != nil)
        {
            let rows = try step { try repository.run(statement).rows }
            for row in rows {
                do { catalogs.append(try CatalogRow(row: row.values)) } catch { errors.append("Ignored a catalog row: \(error)") }
            }
        }
        let plan = SnapshotPlan.perDatabasePlan(
            srvid: config.srvid, remoteDatabases: databases, databaseModules: modules, catalogs: catalogs,
            catalogRefresh: start.catalogRefresh, remoteNow: now, quoteLiteral: remote.quoteLiteral)
        for warning in plan.warnings { logger.warning("\(warning)") }

        for work in plan.databases {
            try checkNotCancelled()
            logger.debug("Working on remote database \(work.dbname)")
            let session: PowaSession
            do {
                session = try PowaSession.open(
                    try remoteParameters.overridingDatabase(work.dbname),
                    applicationName: ApplicationName.worker(config.name),
                    statementTimeout: SnapshotBudget.seconds(for: config), secureSearchPath: true)
            } catch {
                let message = SnapshotErrorText.databaseConnectionFailed(dbname: work.dbname, detail: "\(error)")
                errors.append(message)
                continue
            }
            defer { session.close() }
            let token = mailbox.register(session.connection)
            defer { mailbox.unregister(token) }
            try step { try session.run(SessionSQL.begin) }
            for copy in work.copies {
                try checkNotCancelled()
                errors += try runCopy(copy, from: session, to: repository)
            }
        }
        return errors
    }

    /// Streams one datasource, then runs its cleanup on the remote even when
    /// the copy failed. Each side works inside its own savepoint, so a
    /// failure costs this datasource only.
    private func runCopy(_ copy: CopyStep, from source: PowaSession, to repository: PowaSession) throws(SnapshotAbort) -> [String] {
        var errors: [String] = []
        logger.debug("Working on \(copy.name)")
        // Each savepoint travels with its side's COPY: one round trip each.
        let copied: Result<CopyOutcome, CopyError>
        do throws(CopyError) {
            copied = .success(
                try repository.connection.copy(
                    from: source.connection, sourceSQL: Savepoint.source.create + "; " + copy.source,
                    targetSQL: Savepoint.data.create + "; " + copy.target))
        } catch {
            copied = .failure(error)
        }
        switch copied {
        case .success(let outcome):
            try step { try source.run(Savepoint.source.release) }
            try step { try repository.run(Savepoint.data.release) }
            logger.debug("\(copy.name): \(outcome.rows) rows, \(outcome.bytes) bytes")
            copiedInSnapshot.rows += outcome.rows
            copiedInSnapshot.bytes += outcome.bytes
        case .failure(let error):
            if error.underlying.isConnectionBroken { throw .failed(error.underlying) }
            try checkNotCancelled()
            // A refused target means the source's statements never went out.
            if case .targetRefused = error {} else { try step { try source.run(Savepoint.source.rollback) } }
            try step { try repository.run(Savepoint.data.rollback) }
            switch error {
            case .source(let failure):
                errors.append(SnapshotErrorText.sourceFailed(datasource: copy.name, detail: "\(failure)"))
            case .target(let failure), .targetRefused(let failure):
                errors.append(SnapshotErrorText.insertFailed(datasource: copy.name, detail: "\(failure)"))
            }
        }
        switch copy.cleanup {
        case nil:
            break
        case .unresolvable(let error)?:
            errors.append(error)
        case .run(let cleanup)?:
            try checkNotCancelled()
            logger.debug("Calling \(cleanup)...")
            if let error = failure(of: { () throws(PostgresError) in
                try source.run(Savepoint.source.create + "; " + cleanup)
            }) {
                if error.isConnectionBroken { throw .failed(error) }
                try checkNotCancelled()
                try step { try source.run(Savepoint.source.rollback) }
                errors.append(SnapshotErrorText.cleanupFailed(cleanup: cleanup, detail: "\(error)"))
            } else {
                try step { try source.run(Savepoint.source.release) }
            }
        }
        return errors
    }

    /// `powa_take_snapshot` in its savepoint, then the collector's own
    /// errors appended after it (it resets the column first).
    private func integrate(sql: RepositorySQL, repository: PowaSession, errors collected: [String]) throws(SnapshotAbort) -> [String] {
        try checkNotCancelled()
        var errors: [String] = []
        logger.debug("Calling powa_take_snapshot(\(config.srvid))...")
        try step { try repository.run(Savepoint.takeSnapshot.create) }
        var failedFunctions = 0
        if let error = failure(of: { () throws(PostgresError) in
            failedFunctions = try repository.run(sql.takeSnapshot(srvid: config.srvid)).first?[0].flatMap { Int($0) } ?? 0
        }) {
            if error.isConnectionBroken { throw .failed(error) }
            try checkNotCancelled()
            try step { try repository.run(Savepoint.takeSnapshot.rollback) }
            try step { try repository.run(sql.clearErrors(srvid: config.srvid)) }
            errors.append(SnapshotErrorText.takeSnapshotFailed(srvid: config.srvid, detail: "\(error)"))
        } else {
            if failedFunctions != 0 {
                logger.warning("Number of errors during snapshot: \(failedFunctions)")
                logger.warning(" Check the logs on the repository server")
            }
            try step { try repository.run(Savepoint.takeSnapshot.release) }
        }
        // powa_take_snapshot renames the session as it goes.
        try step { try repository.run(SessionSQL.setApplicationName(ApplicationName.repository(worker: config.name))) }
        let all = collected + errors
        if !all.isEmpty {
            try step { try repository.run(Savepoint.metas.create) }
            if let error = failure(of: { () throws(PostgresError) in
                try repository.run(sql.appendErrors(srvid: config.srvid, errors: all))
            }) {
                if error.isConnectionBroken { throw .failed(error) }
                try step { try repository.run(Savepoint.metas.rollback) }
                logger.warning("Could not report errors for server \(config.srvid): \(error) (they are in this log only; check the repository's log)")
            } else {
                try step { try repository.run(Savepoint.metas.release) }
            }
        }
        return errors
    }

    /// Rolls back both sides, records why when the repository is still
    /// there, and drops a broken remote connection.
    private func handleAbort(_ abort: SnapshotAbort, remote: PowaSession, repository: PowaSession, errors: [String]) {
        _ = try? repository.run(SessionSQL.rollback)
        _ = try? remote.run(SessionSQL.rollback)
        switch abort {
        case .cancelled:
            if mailbox.isStopping {
                logger.info("Snapshot cancelled: the worker is stopping; nothing of it was committed")
                return
            }
            let message = "Snapshot cancelled after running past its \(Int(SnapshotBudget.seconds(for: config))) s budget (snapshot_timeout)"
            logger.error("\(message)")
            reporter.update { $0.lastError = message }
            // The connections may be in any state after a cancel: start afresh.
            disconnectRemote()
            recordErrors(errors + [message], replace: true)
        case .failed(let error):
            let message = "Error during snapshot: \(error)"
            logger.error("\(message)")
            reporter.update { $0.lastError = message }
            if !remote.connection.isHealthy {
                disconnectRemote()
                reporter.update { $0.status = WorkerStatusText.noRemoteConnection }
            }
            if repository.connection.isHealthy {
                _ = try? repository.run(
                    repository.repositoryStatements().replaceErrors(srvid: config.srvid, errors: errors + [message]))
            } else {
                recordErrors(errors + [message], replace: true)
            }
        }
    }

    /// Runs a statement that must succeed for the snapshot to go on.
    @discardableResult
    func step<T>(_ body: () throws -> T) throws(SnapshotAbort) -> T {
        do {
            return try body()
        } catch let error as PostgresError {
            if error.isQueryCanceled || mailbox.shouldAbortSnapshot { throw .cancelled }
            throw .failed(error)
        } catch {
            throw .failed(PostgresError(kind: .unexpectedResult, message: "\(error)"))
        }
    }

    /// The error `body` throws, or nil when it succeeds: for statements
    /// whose failure costs only their own part of the snapshot.
    func failure(of body: () throws(PostgresError) -> Void) -> PostgresError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    func checkNotCancelled() throws(SnapshotAbort) {
        if mailbox.shouldAbortSnapshot { throw .cancelled }
    }
}
