import CollectorLogging
import Logging
import PostgresClient
import PowaCore
import PowaPostgres
import ProcessSupport

/// One server's collection loop: keeps the remote connection, follows the
/// schedule, applies the supervisor's commands between snapshots, and
/// reports every change of status.
///
/// Not Sendable: it is built on the collector thread (`CollectorThread`)
/// and stays there; what the control thread shares with it goes through
/// the `CollectorMailbox` and the `StatusReporter`, both Sendable.
final class Collector {
    var config: WorkerConfiguration
    let mailbox: CollectorMailbox
    let reporter: StatusReporter
    let logger: Logger
    /// The remote connection, kept open between snapshots.
    var remote: PowaSession?
    var generator = SystemRandomNumberGenerator()
    /// A forced snapshot the supervisor accepted but that came within 10 s
    /// of the last start (seen only by this worker, for instance one taken
    /// by its predecessor just before a restart): run it once allowed
    /// rather than drop a request powa-web was told would happen.
    var deferredForcedSnapshot: Double?

    init(config: WorkerConfiguration, mailbox: CollectorMailbox, reporter: StatusReporter, logger: Logger) {
        self.config = config
        self.mailbox = mailbox
        self.reporter = reporter
        self.logger = logger
    }

    func run() {
        defer { disconnectRemote() }
        ensureRemote(reportErrors: true)
        if mailbox.isStopping { return }
        saveVersions()
        if mailbox.isStopping { return }
        let last = readLastSnapshotTime()
        var schedule = SnapshotSchedule(
            frequency: Double(config.frequency), lastSnapshot: last, now: SystemClock.now(), using: &generator)
        collect(following: &schedule)
    }

    /// Takes the snapshots `schedule` asks for and applies the commands
    /// between them, until the worker stops.
    private func collect(following schedule: inout SnapshotSchedule) {
        // Whether the heap may hold pages freed since the last trim.
        var worked = true

        while !mailbox.isStopping {
            for command in mailbox.takeCommands() {
                apply(command, to: &schedule)
                worked = true
            }
            if mailbox.isStopping { break }
            if let due = deferredForcedSnapshot, SystemClock.now() >= due {
                deferredForcedSnapshot = nil
                requestForcedSnapshot(on: &schedule)
            }
            if let start = schedule.poll(now: SystemClock.now()) {
                let committed = takeSnapshot(start)
                schedule.snapshotFinished(
                    now: SystemClock.now(), unconsumedCatalogRefresh: committed ? nil : start.catalogRefresh)
                worked = true
                continue
            }
            if worked {
                WorkerMemory.releaseFreePages()
                WorkerMemory.releaseUnusedStack()
                worked = false
            }
            var wake = schedule.nextWakeUp(now: SystemClock.now()) ?? (SystemClock.now() + 1)
            if let due = deferredForcedSnapshot { wake = min(wake, due) }
            mailbox.wait(seconds: wake - SystemClock.now())
        }
    }

    /// Applies one command from the supervisor, between snapshots.
    func apply(_ command: SupervisorMessage, to schedule: inout SnapshotSchedule) {
        switch command {
        case .reload(let new):
            logger.info("Reloading configuration")
            let reconnect =
                new.server != config.server || new.repositoryDSN != config.repositoryDSN
                || new.snapshotTimeout != config.snapshotTimeout
            if new.debug != config.debug || new.name != config.name {
                StderrLogHandler.configure(threadName: new.name, debug: new.debug)
            }
            if new.frequency != config.frequency {
                schedule.changeFrequency(to: Double(new.frequency), now: SystemClock.now(), using: &generator)
            }
            config = new
            if reconnect || remote == nil {
                disconnectRemote()
                ensureRemote(reportErrors: true)
            }
        case .updateVersions:
            ensureRemote(reportErrors: false)
            saveVersions()
        case .forceSnapshot:
            requestForcedSnapshot(on: &schedule)
        case .refreshCatalogs(let dbnames):
            logger.debug(
                "Catalog refresh asked for \(dbnames.isEmpty ? "all databases" : dbnames.joined(separator: ", "))")
            schedule.requestCatalogRefresh(dbnames: dbnames)
        case .start, .stop, .slotGranted:
            break
        }
    }

    func requestForcedSnapshot(on schedule: inout SnapshotSchedule) {
        do {
            try schedule.requestForcedSnapshot(now: SystemClock.now())
            logger.debug("Forced snapshot queued")
        } catch {
            if case .tooSoon(let elapsed) = error {
                let wait = ForcedSnapshotRule.minimumInterval - elapsed
                deferredForcedSnapshot = SystemClock.now() + wait
                logger.info("Forced snapshot deferred by \(Int(wait.rounded(.up))) s: \(error)")
            } else {
                logger.info("Forced snapshot refused: \(error)")
            }
        }
    }

    // MARK: Connections

    var remoteParameters: ConnectionParameters {
        .fields(
            host: config.server.host, port: config.server.port, user: config.server.user,
            password: config.server.password, dbname: config.server.dbname)
    }

    /// Opens the remote connection when it is not open; updates the status.
    @discardableResult
    func ensureRemote(reportErrors: Bool) -> PowaSession? {
        if let remote, remote.connection.isHealthy { return remote }
        disconnectRemote()
        logger.debug("Connecting on remote database...")
        do {
            remote = try PowaSession.open(
                remoteParameters, applicationName: ApplicationName.worker(config.name),
                statementTimeout: SnapshotBudget.seconds(for: config))
            reporter.update { $0.status = WorkerStatusText.running }
            logger.debug("Connected.")
        } catch {
            let message = "Error connecting on \(config.server.redactedDescription):\n\(error)"
            reportConnectionFailure(message, status: WorkerStatusText.noRemoteConnection)
            if reportErrors { recordErrors([message], replace: true) }
        }
        return remote
    }

    func disconnectRemote() {
        remote?.close()
        remote = nil
    }

    /// Opens a repository connection for one snapshot (or one version
    /// update), as the reference does; the status says when it fails.
    ///
    /// `slotRequested`: the slot's request already went out (with the
    /// snapshot's first status line); its grant is waited for.
    func openRepository(slotRequested: Bool = false) -> PowaSession? {
        guard acquireRepositorySlot(requested: slotRequested) else { return nil }
        do {
            let session = try PowaSession.open(
                .conninfo(config.repositoryDSN),
                applicationName: ApplicationName.repository(worker: config.name))
            if reporter.status.status == WorkerStatusText.noRepositoryConnection {
                reporter.update {
                    $0.status = remote == nil ? WorkerStatusText.noRemoteConnection : WorkerStatusText.running
                }
            }
            return session
        } catch {
            let message =
                "Error connecting on the repository (\(ConnectionParameters.conninfo(config.repositoryDSN).redactedDescription)):\n\(error)"
            reportConnectionFailure(message, status: WorkerStatusText.noRepositoryConnection)
            releaseRepositorySlot()
            return nil
        }
    }

    /// Closes a session of `openRepository` and gives its slot back.
    func closeRepository(_ session: PowaSession) {
        session.close()
        releaseRepositorySlot()
    }

    /// Under a supervisor, waits for its turn to use the repository
    /// (`max_concurrent_snapshots`); false when the worker stops first.
    private func acquireRepositorySlot(requested: Bool) -> Bool {
        guard config.usesSnapshotSlots else { return true }
        if !requested {
            mailbox.clearSlotGrant()
            reporter.send(.slotRequest)
        }
        if mailbox.waitForSlot() { return true }
        reporter.send(.slotRelease)  // leaves the queue
        return false
    }

    private func releaseRepositorySlot() {
        if let slotRelease { reporter.send(slotRelease) }
    }

    /// The line that gives a repository slot back, when slots are in use.
    var slotRelease: WorkerMessage? { config.usesSnapshotSlots ? .slotRelease : nil }

    /// Logs a failed connection (its password already redacted) and says
    /// so in the status powa-web sees.
    func reportConnectionFailure(_ message: String, status: String) {
        logger.error("\(message)")
        reporter.update {
            $0.status = status
            $0.lastError = message
        }
    }
}
