import CollectorLogging
import Glibc
import Logging
import PostgresClient
import PowaCore
import ProcessSupport

/// The imperative shell around `SupervisorStateMachine`: one thread, one
/// epoll loop over the signal self-pipe, the repository socket, every
/// worker's stdout and (when bytes wait) stdin. What happens becomes an
/// event for the machine; what the machine returns is carried out here.
/// No decision is taken in this file.
///
/// Work per wake-up is bounded (`readyPerWakeUp` descriptors, one read
/// each) and signals are read first at every wake-up, so that SIGTERM is
/// acted on promptly whatever backlog the workers' pipes hold.
final class Supervisor {
    /// Longest sleep: the loop observes its own clock at least this often,
    /// which is how it measures its own lateness (`PresenceClock`).
    static let wakeUpLimitMilliseconds: Int32 = 1000
    /// A gap between two observations longer than this means the loop
    /// itself did not run; the excess is not counted against workers.
    static let presenceTolerance = Duration.milliseconds(1500)
    /// Descriptors handled per wake-up, and bytes read from each.
    static let readyPerWakeUp = 32
    static let readBytesPerWakeUp = 16384

    private var machine = SupervisorStateMachine(instance: Supervisor.identity())
    private let clock = MonotonicClock()
    private var presence: PresenceClock
    private let poller: EventPoller
    /// Counts repository sessions opened, and which one the poller watches.
    private var repositoryGeneration = 0
    private var watchedRepositoryGeneration = 0
    private let configurationSource: ConfigurationSource
    let logger = Logger(label: "powa-collector")
    private let spawner: WorkerSpawner

    private(set) var repository: RepositorySession?
    /// Live worker processes by pid, until reaped.
    private var workers: [pid_t: WorkerChannel] = [:]
    /// Workers whose stdin is watched for POLLOUT (bytes wait for it).
    private var watchingOutput: Set<pid_t> = []

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
        presence = PresenceClock(tolerance: Self.presenceTolerance, origin: MonotonicInstant(seconds: clock.now()))
        do {
            poller = try EventPoller()
            try poller.watch(SignalPipe.readFD, .readable, key: Self.signalsKey)
        } catch {
            fatalError("cannot set up epoll: \(error)")
        }
        metricsServer?.attach(to: poller, tag: Self.metricsTag)
    }

    /// This process among the instances sharing the repository: host, pid
    /// and 64 random bits, so that no two starts share an id.
    static func identity() -> InstanceIdentity {
        var name = [UInt8](repeating: 0, count: 256)
        let found = name.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { gethostname($0.baseAddress!, 255) == 0 }
        }
        let hostname = found ? String(decoding: name.prefix { $0 != 0 }, as: UTF8.self) : "unknown"
        let pid = getpid()
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next() as UInt64, radix: 16)
        return InstanceIdentity(id: "\(hostname):\(pid):\(suffix)", hostname: hostname, pid: pid)
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
            let actions = machine.handle(next, now: presentNow())
            reportServiceState()
            for action in actions {
                perform(action)
            }
        }
        pendingEvents.removeAll()
    }

    // MARK: - Clock

    /// The machine's time: the monotonic clock without the gaps during
    /// which this loop did not run (reported once as `loopStalled`).
    private func presentNow() -> MonotonicInstant {
        let stall = presence.observe(MonotonicInstant(seconds: clock.now()))
        if stall > .zero { pendingEvents.append(.loopStalled(stall)) }
        return presence.now
    }

    // MARK: - Waiting

    static let signalsKey: UInt64 = 0
    static let repositoryKey: UInt64 = 1
    static let workerOutputTag: UInt64 = 1 << 32
    static let workerInputTag: UInt64 = 2 << 32
    /// The metrics endpoint's descriptors (a bit of its own, apart from
    /// the workers' tags).
    static let metricsTag: UInt64 = 4 << 32

    private func waitAndDispatch() {
        // Signals first, every time: a backlog of worker output never
        // delays SIGTERM by more than one bounded batch.
        handleSignals()
        if exitCode != nil { return }
        // Requests that libpq read while a statement ran (an answer, a
        // permission check, a reload's server list, a reconnection's LISTEN)
        // are in its buffer, not on the socket: epoll would not see them.
        while let session = repository, session.mayHoldBufferedNotifications, exitCode == nil {
            processNotifications()
        }
        if exitCode != nil { return }
        watchRepositorySocket()

        let now = presentNow()
        if !pendingEvents.isEmpty { feed(.tick) }  // a stall to report
        let machineWait = machine.nextDeadline.map { max(0, ($0 - now).inSeconds) } ?? .infinity
        // The operator interfaces' own deadlines, on the plain clock.
        let rawNow = clock.now()
        let interfaceDeadlines = [
            metricsServer?.nextDeadline, serviceNotifications.nextPingAt,
            serviceManager == nil ? nil : nextStatusSummaryAt,
        ]
        let wait = interfaceDeadlines.compactMap { $0 }.reduce(machineWait) { min($0, max(0, $1 - rawNow)) }
        let milliseconds = FileDescriptorIO.pollTimeout(seconds: wait, limitMilliseconds: Self.wakeUpLimitMilliseconds)
        let ready: [EventPoller.Ready]
        do {
            ready = try poller.wait(capacity: Self.readyPerWakeUp, timeoutMilliseconds: milliseconds)
        } catch {
            logger.error("epoll_wait failed: \(error); retrying in 100 ms (check the open file limit, LimitNOFILE)")
            usleep(100_000)
            return
        }
        _ = presentNow()

        for event in ready {
            switch event.key {
            case Self.signalsKey:
                handleSignals()
            case Self.repositoryKey:
                processNotifications()
            case let key where key & Self.metricsTag != 0:
                metricsServer?.handle(fd: Int32(truncatingIfNeeded: key & 0xFFFF_FFFF), now: clock.now()) {
                    machine.metrics(now: presentNow())
                }
            case let key where key & Self.workerOutputTag != 0:
                readWorkerOutput(pid_t(truncatingIfNeeded: key & 0xFFFF_FFFF))
            case let key where key & Self.workerInputTag != 0:
                flushWorkerInput(pid_t(truncatingIfNeeded: key & 0xFFFF_FFFF))
            default:
                break
            }
            if exitCode != nil { return }
        }
        if let deadline = machine.nextDeadline, presentNow() >= deadline {
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
            statuses: machine.workersStatus(now: presence.now), repositoryConnected: machine.isRepositoryConnected,
            state: machine.serviceState, coordination: machine.coordinationSummary)
        for message in serviceNotifications.summary(line) where !serviceManager.send(message) {
            serviceNotifications.statusNotDelivered()
        }
    }

    /// Keeps the poller on the current repository connection's socket. A
    /// new connection may get the old one's descriptor number, so the
    /// session, not the number, tells whether it changed (closing the old
    /// socket already took it out of the poller).
    private func watchRepositorySocket() {
        guard repositoryGeneration != watchedRepositoryGeneration else { return }
        watchedRepositoryGeneration = repositoryGeneration
        guard let repository, repository.socket >= 0 else { return }
        do {
            try poller.watch(repository.socket, .readable, key: Self.repositoryKey)
        } catch {
            logger.error("cannot watch the repository socket: \(error)")
        }
    }

    private func handleSignals() {
        for signal in ReceivedSignal.handlingOrder(SignalPipe.drain().compactMap(Self.received)) {
            switch signal {
            case .childExited: reapWorkers()
            case .supervisor(let signal): feed(.signalReceived(signal))
            }
        }
    }

    /// The signals the supervisor installed handlers for, by number.
    static func received(_ number: Int32) -> ReceivedSignal? {
        switch number {
        case SIGCHLD: .childExited
        case SIGHUP: .supervisor(.hangup)
        case SIGTERM: .supervisor(.terminate)
        case SIGINT: .supervisor(.interrupt)
        default: nil
        }
    }

    // MARK: - Workers

    /// One bounded read: a chatty worker waits for the next wake-up
    /// (level-triggered epoll reports it again) rather than starve others.
    private func readWorkerOutput(_ pid: pid_t) {
        guard let worker = workers[pid] else { return }
        let events = worker.readAvailable(maximumReads: 1, bytesPerRead: Self.readBytesPerWakeUp)
        for event in events { feed(event) }
    }

    private func flushWorkerInput(_ pid: pid_t) {
        guard let worker = workers[pid] else { return }
        worker.flush()
        updateOutputInterest(worker)
    }

    /// Watches a worker's stdin for room only while bytes wait for it.
    private func updateOutputInterest(_ worker: WorkerChannel) {
        let wants = worker.hasPendingOutput
        guard wants != watchingOutput.contains(worker.pid) else { return }
        if wants {
            do {
                try poller.watch(
                    worker.stdinFD, .writable, key: Self.workerInputTag | UInt64(UInt32(bitPattern: worker.pid)))
                watchingOutput.insert(worker.pid)
            } catch {
                logger.error("cannot watch a worker's stdin: \(error)")
            }
        } else {
            // Back to no interest (a closed stdin already left the poller).
            if worker.stdinFD >= 0 { poller.unwatch(worker.stdinFD) }
            watchingOutput.remove(worker.pid)
        }
    }

    /// The watchdog's request: everything waiting in the suspect's pipe is
    /// read and reported first, then its `/proc` state.
    func checkWorker(pid: pid_t) {
        if let worker = workers[pid] {
            for event in worker.readAvailable(maximumReads: 64, bytesPerRead: 65536) { feed(event) }
        }
        feed(.workerChecked(pid: pid, ProcessStat.sample(pid: pid)))
    }

    /// Reaps every exited child; each worker's last lines are read before
    /// its exit is reported, so that the machine sees them in order.
    private func reapWorkers() {
        for (pid, exit) in ChildProcess.reapExited() {
            let termination = WorkerTermination(exit)
            guard let worker = workers.removeValue(forKey: pid) else {
                // The launcher, or an orphan of a dead launcher: not a worker.
                if spawner.reaped(pid: pid) { feed(.launcherExited(pid: pid, termination)) }
                continue
            }
            let lastWords = worker.readAvailable(maximumReads: 64, bytesPerRead: 65536)
            watchingOutput.remove(pid)
            worker.close()
            for event in lastWords { feed(event) }
            feed(.workerExited(pid: pid, termination))
        }
    }

    func spawnWorker(_ configuration: WorkerConfiguration) {
        do {
            let process = try spawner.spawn()
            let channel = WorkerChannel(
                process: process, srvid: configuration.srvid, name: configuration.name, poller: poller)
            workers[process.pid] = channel
            do {
                try poller.watch(
                    channel.stdoutFD, .readable, key: Self.workerOutputTag | UInt64(UInt32(bitPattern: process.pid)))
            } catch {
                logger.error("cannot watch a worker's stdout: \(error)")
            }
            feed(.workerSpawned(srvid: configuration.srvid, pid: process.pid))
        } catch {
            feed(.workerSpawnFailed(srvid: configuration.srvid, reason: error.description))
        }
    }

    func send(_ message: SupervisorMessage, to pid: pid_t) {
        guard let worker = workers[pid] else {
            feed(.workerInputDropped(pid: pid, message: message.typeName, .processGone))
            return
        }
        defer { updateOutputInterest(worker) }
        switch worker.send(message) {
        case .queued: break
        case .closed: feed(.workerInputDropped(pid: pid, message: message.typeName, .inputClosed))
        case .overflow: feed(.workerInputDropped(pid: pid, message: message.typeName, .overflow))
        }
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
            repositoryGeneration += 1
            watchRepositorySocket()
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
            feed(.notificationBatchBegan)
            for notification in notifications where notification.channel == RepositorySession.channel {
                feed(.notificationFromUncheckedSender(payload: notification.payload, senderPID: notification.senderPID))
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
            } else {
                feed(.senderPermissionCheckFailed(payload: payload, senderPID: senderPID, reason: error.description))
            }
            return
        }
        feed(.notificationReceived(payload: payload, senderPermitted: check.permitted, senderPID: senderPID))
    }

    func answerIfPermitted(
        channel: String, senderPID: Int32, payload: String, deniedPayload: String, request: ConditionalAnswer
    ) {
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
            feed(
                .conditionalAnswerFailed(
                    request, channel: channel, deniedPayload: deniedPayload, senderPID: senderPID,
                    reason: error.description))
            return
        }
        feed(.conditionalAnswerSent(request, senderPID: senderPID, senderPermitted: permitted))
    }

    func answer(channel: String, payload: String) {
        guard let repository else { return }
        do {
            try repository.answer(channel: channel, payload: payload)
        } catch {
            if error.isConnectionBroken {
                repositoryLost(error.description)
            } else {
                feed(.notificationAnswerFailed(channel: channel, reason: error.description))
            }
        }
    }

    // MARK: - Configuration

    func reloadConfigurationFile() {
        feed(.configurationFileReloaded(ConfigurationFile.load(configurationSource)))
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
