import PostgresClient
import PowaCore
import PowaPostgres
import ProcessSupport

/// Repository work outside of a snapshot: reading the last snapshot time,
/// recording errors, saving versions.
extension Collector {
    /// Opens a repository session and the statements for its powa version.
    func withRepository<T>(_ body: (PowaSession, RepositorySQL) throws(PostgresError) -> T) -> T? {
        guard let repository = openRepository() else { return nil }
        defer { closeRepository(repository) }
        let version: PowaVersion
        do {
            version = try PowaVersion.validated(extversion: repository.extensions.powaVersionText, on: .repository)
        } catch {
            logger.error("\(error)")
            reporter.update { $0.lastError = "\(error)" }
            return nil
        }
        let sql = repository.repositoryStatements(version: version)
        do {
            return try body(repository, sql)
        } catch {
            logger.error(
                "Repository error: \(error) (check the repository server's log; the worker tries again next period)")
            return nil
        }
    }

    /// When the last snapshot of this server started, on the monotonic
    /// clock; nil when unknown (never taken, or unreadable).
    func readLastSnapshotTime() -> Double? {
        let epoch: Double?? = withRepository { repository, sql throws(PostgresError) in
            let result = try repository.run(sql.lastSnapshotTime(srvid: config.srvid))
            guard let row = result.first else {
                let message = SnapshotErrorText.notRegistered(srvid: config.srvid)
                logger.error("\(message)")
                reporter.update { $0.lastError = message }
                return nil
            }
            return SnapshotTimestamp.parseEpoch(row[0])
        }
        guard let epoch = epoch ?? nil else { return nil }
        logger.debug("Retrieved last snapshot time: \(epoch)")
        return SystemClock.now() - (SystemClock.wallNow() - epoch)
    }

    /// Stores `errors` in `powa_snapshot_metas.errors`, replacing the last
    /// snapshot's or appended to them, when the repository is reachable.
    func recordErrors(_ errors: [String], replace: Bool) {
        guard !errors.isEmpty else { return }
        _ = withRepository { repository, sql throws(PostgresError) in
            let statement =
                replace
                ? sql.replaceErrors(srvid: config.srvid, errors: errors)
                : sql.appendErrors(srvid: config.srvid, errors: errors)
            if case .failed(let failure) = runFenced(statement, on: repository) {
                logger.warning(
                    "Could not record errors for server \(config.srvid): \(failure.message) (they are in this log only; check the repository's log)"
                )
            }
        }
    }

    /// Records the remote's PostgreSQL version and extension versions in the
    /// repository, each on its own so one failure does not stop the others.
    func saveVersions() {
        guard let remote = ensureRemote(reportErrors: false) else { return }
        logger.debug("Checking postgres and dependencies versions")
        _ = withRepository { repository, sql throws(PostgresError) in
            try remote.refreshExtensions()
            let serverVersion = try remote.run(RemoteSQL.serverVersion).first?[0]
            let hypopg = try remote.run(RemoteSQL.hypopgAvailableVersion).first?[0]
            var recorded: [ExtensionVersionRow] = []
            if let statement = sql.extensionVersions(srvid: config.srvid) {
                for row in try repository.run(statement).rows {
                    do {
                        recorded.append(try ExtensionVersionRow(row: row.values))
                    } catch {
                        logger.warning("Ignored an extension version row: \(error)")
                    }
                }
            }
            let steps = VersionSavePlan.steps(
                sql: sql, srvid: config.srvid, serverVersion: serverVersion, recorded: recorded,
                remoteVersions: remote.extensions.versions, hypopgAvailableVersion: hypopg)
            for step in steps {
                do {
                    try repository.run(step.statement)
                } catch {
                    logger.warning(
                        "Could not save the version of \(step.subject): \(error) (it is saved again on the next reload)"
                    )
                }
            }
        }
    }
}
