import Glibc
import Logging
import PostgresClient
import PowaCore
import ProcessSupport

/// The imperative shell around `SupervisorStateMachine`: one thread, one
/// poll(2) loop over the signal self-pipe, the repository socket, every
/// worker's stdout and (when bytes wait) stdin. What happens becomes an
/// event for the machine; what the machine returns is carried out here.
/// No decision is taken in this file.
final class Supervisor {
    /// Longest sleep when the machine waits on nothing; waking up costs
    /// nothing and bounds the damage of a missed wake-up.
    static let idleWakeUpSeconds = 30.0

    private var machine = SupervisorStateMachine()
    private let clock = MonotonicClock()
    private let configurationSource: ConfigurationSource
    let logger = Logger(label: "powa-collector")
    private let spawner: WorkerSpawner

    private var repository: RepositorySession?
    /// Senders checked in the batch of notifications being processed.
    private var senderPermissions: [Int32: Bool] = [:]
    /// Live worker processes by pid, until reaped.
    private var workers: [pid_t: WorkerChannel] = [:]

    /// Events waiting to be fed, in order: actions report their results as
    /// events, which are handled after the current batch of actions.
    private var pendingEvents: [SupervisorEvent] = []
    private var isFeeding = false
    /// Set by the machine's `exit` action.
    private(set) var exitCode: Int32?

    /// Operator interfaces, each optional and bounded: systemd's notify
    /// socket and the metrics endpoint. They report what the machine
    /// decided and never decide anything themselves.
    private let serviceManager: ServiceManagerNotifier?
    private var serviceNotifications: ServiceNotifications
    private var nextStatusSummaryAt = 0.0
    private let metricsServer: MetricsServer?
    /// `STATUS=` is refreshed this often (it reads every worker's status).
    static let statusSummaryInterval = 5.0

    init(
        configurationSource: ConfigurationSource, workerExecutable: String,
        serviceManager: (ServiceManagerNotifier?, ServiceWatchdog?) = (nil, nil), metricsServer: MetricsServer? = nil
    ) {
        self.configurationSource = configurationSource
        spawner = WorkerSpawner(executable: workerExecutable, clock: clock, logger: logger)
        self.serviceManager = serviceManager.0
        serviceNotifications = ServiceNotifications(watchdog: serviceManager.0 == nil ? nil : serviceManager.1)
        self.metricsServer = metricsServer
    }

    /// Runs until the machine exits; returns the exit status.
    func run(_ loaded: LoadedConfiguration) -> Int32 {
        logger.info("Starting powa-collector \(CollectorVersion.current)")
        feed(.started(loaded))
        while exitCode == nil {
            waitAndDispatch()
        }
        repository?.close()
        repository = nil
        spawner.close()
        metricsServer?.close()
        return exitCode ?? 1
    }

    // MARK: - Feeding the machine

    /// Hands `event` to the machine and carries out the actions, then the
    /// events those actions produced, until none is left.
    func feed(_ event: SupervisorEvent) {
        pendingEvents.append(event)
        guard !isFeeding else { return }
        isFeeding = true
        defer { isFeeding = false }
        while exitCode == nil, !pendingEvents.isEmpty {
            let next = pendingEvents.removeFirst()
            let actions = machine.handle(next, now: clock.now())
            reportServiceState()
            for action in actions {
                perform(action)
            }
        }
        pendingEvents.removeAll()
    }

    // MARK: - Waiting

    private enum Source {
        case signals
        case repository
        case workerOutput(pid_t)
        case workerInput(pid_t)
        case metrics(Int32)
    }

    private func waitAndDispatch() {
        var entries = [pollfd(fd: SignalPipe.readFD, events: Int16(POLLIN), revents: 0)]
        var sources: [Source] = [.signals]
        if let repository, repository.socket >= 0 {
            entries.append(pollfd(fd: repository.socket, events: Int16(POLLIN), revents: 0))
            sources.append(.repository)
        }
        for (pid, worker) in workers {
            if worker.stdoutFD >= 0 {
                entries.append(pollfd(fd: worker.stdoutFD, events: Int16(POLLIN), revents: 0))
                sources.append(.workerOutput(pid))
            }
            if worker.hasPendingOutput {
                entries.append(pollfd(fd: worker.stdinFD, events: Int16(POLLOUT), revents: 0))
                sources.append(.workerInput(pid))
            }
        }

        if let metricsServer {
            for entry in metricsServer.pollEntries {
                entries.append(entry)
                sources.append(.metrics(entry.fd))
            }
        }

        let deadline = [
            machine.nextDeadline, metricsServer?.nextDeadline, serviceNotifications.nextPingAt,
            serviceManager == nil ? nil : nextStatusSummaryAt,
        ].compactMap { $0 }.min()
        let wait = min(max(0, (deadline ?? .infinity) - clock.now()), Self.idleWakeUpSeconds)
        // Rounded up, so that a wake-up is never a hair before the deadline.
        let milliseconds = Int32((wait * 1000).rounded(.up))
        do {
            _ = try FileDescriptorIO.poll(&entries, timeoutMilliseconds: milliseconds)
        } catch {
            logger.error("poll failed: \(error); retrying in 100 ms (check the open file limit, LimitNOFILE)")
            usleep(100_000)
        }

        for (entry, source) in zip(entries, sources) where entry.revents != 0 {
            switch source {
            case .signals: handleSignals()
            case .repository: processNotifications()
            case .workerOutput(let pid): readWorkerOutput(pid)
            case .workerInput(let pid): workers[pid]?.flush()
            case .metrics(let fd):
                metricsServer?.handle(fd: fd, now: clock.now()) { machine.metrics(now: clock.now()) }
            }
            if exitCode != nil { return }
        }
        if let deadline = machine.nextDeadline, clock.now() >= deadline {
            feed(.tick)
        }
        metricsServer?.expire(now: clock.now())
        serviceLoopTurn()
    }

    // MARK: - Service manager

    /// Tells systemd about a change of the machine's service state.
    private func reportServiceState() {
        guard let serviceManager else { return }
        let messages = serviceNotifications.stateChanged(
            to: machine.serviceState, monotonicMicroseconds: UInt64(SystemClock.now() * 1_000_000))
        guard !messages.isEmpty else { return }
        for message in messages { serviceManager.send(message) }
        sendStatusSummary()
    }

    /// At the end of each turn of the loop, once everything that was
    /// waiting was handled: the watchdog keep-alive when due, and the
    /// status line now and then.
    private func serviceLoopTurn() {
        guard let serviceManager else { return }
        for message in serviceNotifications.loopTurn(now: clock.now()) { serviceManager.send(message) }
        if clock.now() >= nextStatusSummaryAt { sendStatusSummary() }
    }

    private func sendStatusSummary() {
        guard let serviceManager else { return }
        nextStatusSummaryAt = clock.now() + Self.statusSummaryInterval
        let line = ServiceStatusSummary.line(
            statuses: machine.workersStatus(now: clock.now()), repositoryConnected: machine.isRepositoryConnected,
            state: machine.serviceState)
        for message in serviceNotifications.summary(line) { serviceManager.send(message) }
    }

    /// Stop and reload requests first, child exits last: when systemd stops
    /// the whole control group, the launcher's and workers' deaths by the
    /// same SIGTERM must be seen as part of the shutdown, not as failures.
    static func handlingOrder(_ signals: [Int32]) -> [Int32] {
        signals.filter { $0 != SIGCHLD } + (signals.contains(SIGCHLD) ? [SIGCHLD] : [])
    }

    private func handleSignals() {
        for signal in Self.handlingOrder(SignalPipe.drain()) {
            switch signal {
            case SIGCHLD: reapWorkers()
            case SIGHUP: feed(.signalReceived(.hangup))
            case SIGTERM: feed(.signalReceived(.terminate))
            case SIGINT: feed(.signalReceived(.interrupt))
            default: break
            }
        }
    }

    // MARK: - Workers

    private func readWorkerOutput(_ pid: pid_t) {
        guard var worker = workers[pid] else { return }
        let events = worker.readAvailable()
        workers[pid] = worker
        for event in events { feed(event) }
    }

    /// Reaps every exited child; each worker's last lines are read before
    /// its exit is reported, so that the machine sees them in order.
    private func reapWorkers() {
        for (pid, exit) in ChildProcess.reapExited() {
            let termination = WorkerTermination(exit)
            guard var worker = workers.removeValue(forKey: pid) else {
                // The launcher, or an orphan of a dead launcher: not a worker.
                spawner.reaped(pid: pid, termination, collectorStopping: machine.serviceState == .stopping)
                continue
            }
            let lastWords = worker.readAvailable(maximumReads: 64)
            worker.close()
            for event in lastWords { feed(event) }
            feed(.workerExited(pid: pid, termination))
        }
    }

    func spawnWorker(_ configuration: WorkerConfiguration) {
        do {
            let process = try spawner.spawn()
            workers[process.pid] = WorkerChannel(process: process, srvid: configuration.srvid, name: configuration.name)
            feed(.workerSpawned(srvid: configuration.srvid, pid: process.pid))
        } catch {
            feed(.workerSpawnFailed(srvid: configuration.srvid, reason: error.description))
        }
    }

    func send(_ message: SupervisorMessage, to pid: pid_t) {
        guard var worker = workers[pid] else {
            logger.debug("not sending \(message.typeName) to process \(pid): it is gone")
            return
        }
        switch worker.send(message) {
        case .queued:
            break
        case .closed:
            logger.debug("not sending \(message.typeName): the worker's stdin is closed",
                         metadata: threadMetadata(worker.name))
        case .overflow:
            logger.warning("dropped \(message.typeName): the worker is not reading its stdin",
                           metadata: threadMetadata(worker.name))
        }
        workers[pid] = worker
    }

    /// Signals only a process not reaped yet: a reaped pid may already
    /// belong to someone else.
    func signal(_ signal: WorkerSignal, to pid: pid_t) {
        guard workers[pid] != nil else { return }
        _ = kill(pid, signal == .terminate ? SIGTERM : SIGKILL)
    }

    // MARK: - Repository

    func connectRepository(dsn: String) {
        repository?.close()
        repository = nil
        logger.debug("connecting to the repository (\(ConnectionParameters.conninfo(dsn).redactedDescription))")
        do {
            repository = try RepositorySession.open(dsn: dsn)
            feed(.repositoryConnected)
        } catch {
            feed(.repositoryConnectionFailed(reason: error.description))
        }
    }

    func readServerList() {
        guard let repository else {
            feed(.repositoryConnectionLost(reason: "not connected"))
            return
        }
        do {
            feed(.serverListRead(try repository.readServerList()))
        } catch {
            if error.isConnectionBroken {
                repositoryLost(error.description)
            } else {
                feed(.serverListReadFailed(reason: error.description))
            }
        }
    }

    func repositoryLost(_ reason: String) {
        repository?.close()
        repository = nil
        feed(.repositoryConnectionLost(reason: reason))
    }

    /// Reads every pending notification and hands the requests to the
    /// machine, whose answers go out at once. Statements run meanwhile can
    /// pull more notifications into libpq's buffer, so the loop drains
    /// again until nothing is left.
    private func processNotifications() {
        while let session = repository {
            let notifications: [PostgresNotification]
            do {
                notifications = try session.drainNotifications()
            } catch {
                repositoryLost(error.description)
                return
            }
            if notifications.isEmpty { return }
            // A sender checked once is not checked again in the same batch.
            senderPermissions = [:]
            for notification in notifications where notification.channel == RepositorySession.channel {
                if let known = senderPermissions[notification.senderPID] {
                    feed(.notificationReceived(payload: notification.payload, senderPermitted: known))
                } else {
                    feed(.notificationFromUncheckedSender(payload: notification.payload, senderPID: notification.senderPID))
                }
                if repository !== session || exitCode != nil { return }
            }
        }
    }

    func checkSenderPermission(payload: String, senderPID: Int32) {
        guard let repository else { return }
        let check = repository.isPermitted(senderPID: senderPID)
        if let error = check.error {
            if error.isConnectionBroken {
                repositoryLost(error.description)
                return
            }
            logger.warning("cannot check the permission of backend \(senderPID): \(error)")
        }
        senderPermissions[senderPID] = check.permitted
        feed(.notificationReceived(payload: payload, senderPermitted: check.permitted))
    }

    func answerIfPermitted(channel: String, senderPID: Int32, payload: String, deniedPayload: String, refusal: String) {
        guard let repository else { return }
        let permitted: Bool
        do {
            permitted = try repository.answerIfPermitted(
                senderPID: senderPID, channel: channel, answer: payload, denied: deniedPayload)
        } catch {
            if error.isConnectionBroken {
                repositoryLost(error.description)
                return
            }
            // A failed check means "not permitted", as with a separate check.
            logger.warning("cannot check the permission of backend \(senderPID): \(error)")
            senderPermissions[senderPID] = false
            logger.warning("\(refusal)")
            answer(channel: channel, payload: deniedPayload)
            feed(.notificationAnsweredIfPermitted(payload: payload, permitted: false))
            return
        }
        senderPermissions[senderPID] = permitted
        if !permitted { logger.warning("\(refusal)") }
        feed(.notificationAnsweredIfPermitted(payload: payload, permitted: permitted))
    }

    func answer(channel: String, payload: String) {
        guard let repository else { return }
        do {
            try repository.answer(channel: channel, payload: payload)
        } catch {
            if error.isConnectionBroken {
                repositoryLost(error.description)
            } else {
                logger.warning("cannot answer on channel \"\(channel.prefix(64))\": \(error)")
            }
        }
    }

    // MARK: - Configuration

    func reloadConfigurationFile() {
        let result = ConfigurationFile.load(configurationSource)
        if case .success(let loaded) = result, loaded.configuration.metricsListen != metricsServer?.address {
            logger.warning("""
                metrics_listen changed in \(loaded.path): the endpoint is opened at startup only, \
                restart the collector to apply it
                """)
        }
        feed(.configurationFileReloaded(result))
    }

    func finish(code: Int32) {
        exitCode = code
    }

    func threadMetadata(_ name: String?) -> Logger.Metadata? {
        name.map { [StderrLogHandler.threadNameMetadataKey: .string($0)] }
    }
}

extension WorkerTermination {
    init(_ termination: ChildProcess.Termination) {
        switch termination {
        case .exited(let status): self = .exited(status: status)
        case .signaled(let signal): self = .killedBySignal(signal)
        }
    }
}
