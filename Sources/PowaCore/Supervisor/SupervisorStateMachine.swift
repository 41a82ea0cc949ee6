import Logging

/// Every decision of the `powa-collector` supervisor, without any I/O.
///
/// The shell turns what happens (a worker's line, an exit status, a signal,
/// a notification, time passing) into `SupervisorEvent`s, feeds them to
/// `handle(_:now:)`, and carries out the returned `SupervisorAction`s in
/// order. It calls `handle(.tick, now:)` when `now` reaches `nextDeadline`.
///
/// Time is a number of seconds on a monotonic clock chosen by the shell (for
/// instance seconds since the program started), passed in with every event
/// so that tests decide what time it is.
///
/// Life cycle: `started` → connect to the repository → read the server list
/// → spawn one worker per server (running) → on SIGTERM/SIGINT, `stop` every
/// worker, SIGKILL what is left after `stopGracePeriod`, exit 0. A failure
/// to reach the repository or read the server list before the first list is
/// read exits 1, as the reference does: nothing could be collected.
///
/// Requests from powa-web are answered at once from what the workers last
/// reported; no request waits on a worker.
public struct SupervisorStateMachine: Sendable {
    public let timings: SupervisorTimings

    private enum Phase: Equatable, Sendable {
        case notStarted
        /// Connecting and reading the first server list.
        case starting
        case running
        /// Waiting for the workers to exit; SIGKILL for the rest at `killAt`.
        case shuttingDown(killAt: Double)
        case finished
    }

    private enum ServerListRead: Equatable, Sendable {
        case notWanted
        /// To read as soon as the repository connection is up.
        case wanted
        /// `readServerList` was issued.
        case inFlight
    }

    private enum ReloadStage: Equatable, Sendable {
        case idle
        case readingConfigurationFile
        case readingServerList
    }

    private var phase: Phase = .notStarted
    private var configuration = CollectorConfiguration(repositoryDSN: "")
    private var repository: RepositoryLink
    private var workers: [Int: SupervisedWorker] = [:]
    private var retiring: [Int32: RetiringWorkerProcess] = [:]
    private var serverListRead: ServerListRead = .notWanted
    private var reloadStage: ReloadStage = .idle
    /// A reload was asked for (SIGHUP or RELOAD) and has not begun. Several
    /// requests while one reload runs make a single further reload.
    private var reloadRequested = false
    private var actions: [SupervisorAction] = []
    private var notifyRequests = NotifyRequestCounters()

    public init(timings: SupervisorTimings = .standard) {
        self.timings = timings
        self.repository = RepositoryLink(timings: timings)
    }

    /// True once the `exit` action was returned; later events are ignored.
    public var isFinished: Bool { phase == .finished }

    // MARK: - Events

    public mutating func handle(_ event: SupervisorEvent, now: Double) -> [SupervisorAction] {
        guard phase != .finished else { return [] }
        switch event {
        case .started(let loaded): start(loaded)
        case .repositoryConnected: repositoryConnected(now: now)
        case .repositoryConnectionFailed(let reason): repositoryDown(reason, wasConnected: false, now: now)
        case .repositoryConnectionLost(let reason): repositoryDown(reason, wasConnected: true, now: now)
        case .serverListRead(let rows): serverListArrived(rows, now: now)
        case .serverListReadFailed(let reason): serverListFailed(reason)
        case .configurationFileReloaded(let result): configurationReloaded(result, now: now)
        case .workerSpawned(let srvid, let pid): workerSpawned(srvid: srvid, pid: pid, now: now)
        case .workerSpawnFailed(let srvid, let reason): workerSpawnFailed(srvid: srvid, reason: reason, now: now)
        case .workerMessage(let pid, let message): workerMessage(pid: pid, message, now: now)
        case .workerMalformedLine(let pid, let reason): workerMalformedLine(pid: pid, reason: reason)
        case .workerExited(let pid, let termination): workerExited(pid: pid, termination, now: now)
        case .signalReceived(let signal): signalReceived(signal, now: now)
        case .notificationReceived(let payload, let permitted):
            notificationReceived(NotifyRequest(payload: payload), senderPermitted: permitted, now: now)
        case .notificationFromUncheckedSender(let payload, let senderPID):
            notificationFromUncheckedSender(payload: payload, senderPID: senderPID, now: now)
        case .notificationAnsweredIfPermitted(let payload, let permitted):
            let words = payload.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            let outcome = permitted ? words.dropFirst().first.map { $0.lowercased() } ?? "ok" : "denied"
            notifyRequests.record(command: words.first.map(String.init) ?? "", outcome: outcome)
        case .tick: tick(now: now)
        }
        followUp()
        defer { actions = [] }
        return actions
    }

    /// When the next `tick` is due, or nil when nothing is waiting on time.
    public var nextDeadline: Double? {
        var deadlines: [Double] = []
        if case .waitingToReconnect(let at) = repository.state { deadlines.append(at) }
        for worker in workers.values {
            switch worker.process {
            case .running(let running): deadlines.append(running.lastHeardAt + timings.watchdogSilenceLimit)
            case .terminatingUnresponsive(_, _, _, let killAt?): deadlines.append(killAt)
            case .waitingToRestart(let at, _): deadlines.append(at)
            case .spawning, .terminatingUnresponsive: break
            }
        }
        deadlines += retiring.values.compactMap(\.killAt)
        if case .shuttingDown(let killAt) = phase { deadlines.append(killAt) }
        return deadlines.min()
    }

    /// The status string of every worker, by server id, as `WORKERS_STATUS`
    /// reports it. A removed server whose worker is still exiting, and every
    /// worker once the collector is shutting down, shows as `stopping`.
    public func workersStatus(now: Double) -> [Int: String] {
        var statuses: [Int: String] = [:]
        for process in retiring.values { statuses[process.srvid] = WorkerStatusText.stopping }
        for (srvid, worker) in workers {
            statuses[srvid] = isShuttingDown ? WorkerStatusText.stopping : worker.statusText(now: now)
        }
        return statuses
    }

    /// What a service manager is told (systemd's READY, RELOADING,
    /// STOPPING): ready once the first server list is read and its workers
    /// were asked to start, reloading from a reload's start to its end.
    public var serviceState: ServiceState {
        switch phase {
        case .notStarted, .starting: .starting
        case .running: reloadStage == .idle ? .ready : .reloading
        case .shuttingDown, .finished: .stopping
        }
    }

    /// Whether the supervisor's own repository connection is up.
    public var isRepositoryConnected: Bool { repository.state == .connected }

    /// What the metrics endpoint reports. Reads every worker: for a scrape,
    /// not for every event.
    public func metrics(now: Double) -> SupervisorMetrics {
        var servers = workers.keys.sorted().map { workers[$0]!.metrics(srvid: $0, now: now) }
        for process in retiring.values.sorted(by: { $0.srvid < $1.srvid }) where workers[process.srvid] == nil {
            servers.append(ServerMetrics(srvid: process.srvid, name: process.name, status: WorkerStatusText.stopping, up: false))
        }
        if isShuttingDown {
            for index in servers.indices { servers[index].status = WorkerStatusText.stopping; servers[index].up = false }
        }
        let listRead: Bool
        switch phase {
        case .running, .shuttingDown: listRead = true
        case .notStarted, .starting, .finished: listRead = false
        }
        return SupervisorMetrics(
            repositoryConnected: isRepositoryConnected, serverListRead: listRead, state: serviceState,
            servers: servers, notifyRequests: notifyRequests)
    }

    // MARK: - Startup and repository connection

    private mutating func start(_ loaded: LoadedConfiguration) {
        guard phase == .notStarted else { return }
        phase = .starting
        configuration = loaded.configuration
        actions.append(.setDebugLogging(configuration.debug))
        log(.info, "using configuration file \(loaded.path)")
        for warning in loaded.warnings { log(.warning, warning) }
        repository.state = .connecting
        actions.append(.connectRepository(dsn: configuration.repositoryDSN))
        serverListRead = .wanted
    }

    private mutating func repositoryConnected(now: Double) {
        guard repository.state == .connecting else { return }
        repository.state = .connected
        repository.reconnectBackoff.reset()
        if let since = repository.outageStartedAt {
            repository.outageStartedAt = nil
            log(.info, "connection to the repository is back after \(Self.seconds(now - since))")
        }
    }

    private mutating func repositoryDown(_ reason: String, wasConnected: Bool, now: Double) {
        switch phase {
        case .starting:
            log(.error, "cannot \(wasConnected ? "use" : "connect to") the repository: \(reason); "
                + "check repository.dsn in the configuration file and that the repository server is up")
            exit(code: 1)
            return
        case .running:
            break
        case .notStarted, .shuttingDown, .finished:
            repository.state = .disconnected
            return
        }
        // A failed attempt only counts while one is in progress, a loss only
        // while connected: a duplicate report must not double the delay.
        guard repository.state == (wasConnected ? .connected : .connecting) else { return }
        if serverListRead == .inFlight { serverListRead = .wanted }
        let delay = repository.reconnectBackoff.nextDelay()
        repository.state = .waitingToReconnect(at: now + delay)
        if repository.outageStartedAt == nil {
            repository.outageStartedAt = now
            log(.warning, "\(wasConnected ? "lost the connection to" : "cannot connect to") the repository: "
                + "\(reason); workers keep collecting, reconnecting in \(Self.seconds(delay))")
        } else {
            log(.debug, "cannot connect to the repository: \(reason); next attempt in \(Self.seconds(delay))")
        }
    }

    // MARK: - Server list and reload

    private mutating func serverListArrived(_ rows: [ServerRow], now: Double) {
        guard serverListRead == .inFlight else { return }
        serverListRead = .notWanted
        let wanted = ServerRow.workerConfigurations(rows, collector: configuration)
        switch phase {
        case .starting:
            phase = .running
            log(.info, "\(wanted.count) server\(wanted.count == 1 ? "" : "s") to collect")
            apply(wanted, now: now)
        case .running:
            apply(wanted, now: now)
            if reloadStage == .readingServerList {
                reloadStage = .idle
                log(.info, "reload done")
            }
        case .notStarted, .shuttingDown, .finished:
            break
        }
    }

    private mutating func serverListFailed(_ reason: String) {
        guard serverListRead == .inFlight else { return }
        serverListRead = .notWanted
        switch phase {
        case .starting:
            log(.error, "cannot read the list of servers from the repository: \(reason); "
                + "check that the role of repository.dsn may read powa_servers")
            exit(code: 1)
        case .running:
            log(.error, "reload failed, cannot read the list of servers: \(reason); nothing changed")
            reloadStage = .idle
        case .notStarted, .shuttingDown, .finished:
            break
        }
    }

    private mutating func configurationReloaded(_ result: Result<LoadedConfiguration, ConfigurationError>, now: Double) {
        guard phase == .running, reloadStage == .readingConfigurationFile else { return }
        switch result {
        case .failure(let error):
            log(.error, "reload failed: \(error); keeping the previous configuration")
            reloadStage = .idle
        case .success(let loaded):
            for warning in loaded.warnings { log(.warning, warning) }
            let previous = configuration
            configuration = loaded.configuration
            if previous.debug != configuration.debug {
                actions.append(.setDebugLogging(configuration.debug))
            }
            if previous.repositoryDSN != configuration.repositoryDSN {
                log(.info, "the repository DSN changed, connecting to the new repository")
                repository.state = .connecting
                repository.reconnectBackoff.reset()
                actions.append(.connectRepository(dsn: configuration.repositoryDSN))
            }
            reloadStage = .readingServerList
            serverListRead = .wanted
        }
    }

    /// Makes the workers match `wanted`: spawns added servers, stops removed
    /// ones, sends `reload` to those whose configuration changed and leaves
    /// the others alone. Every worker already running is also asked to
    /// store the remote's versions again: the operator may have upgraded an
    /// extension and reloaded to tell the collector. (At startup no worker
    /// is running yet, and new workers store versions as they start.)
    private mutating func apply(_ wanted: [Int: WorkerConfiguration], now: Double) {
        for srvid in workers.keys.sorted() where wanted[srvid] == nil {
            removeWorker(srvid: srvid, now: now)
        }
        for srvid in wanted.keys.sorted() {
            let configuration = wanted[srvid]!
            guard var worker = workers[srvid] else {
                log(.info, "server \(srvid) added, starting its worker", worker: configuration.name)
                workers[srvid] = SupervisedWorker(
                    configuration: configuration, process: .spawning,
                    restartBackoff: ExponentialBackoff(
                        initialDelay: timings.restartInitialDelay, maximumDelay: timings.restartMaximumDelay))
                actions.append(.spawnWorker(configuration))
                continue
            }
            if worker.configuration != configuration {
                worker.configuration = configuration
                if case .running(let running) = worker.process {
                    log(.info, "configuration changed, asking the worker to reload", worker: configuration.name)
                    actions.append(.sendToWorker(pid: running.pid, .reload(configuration)))
                } else {
                    // No process to tell: the next one starts with it.
                    log(.info, "configuration changed", worker: configuration.name)
                }
            }
            if case .running(let running) = worker.process {
                actions.append(.sendToWorker(pid: running.pid, .updateVersions))
            }
            workers[srvid] = worker
        }
    }

    private mutating func removeWorker(srvid: Int, now: Double) {
        guard let worker = workers.removeValue(forKey: srvid) else { return }
        log(.info, "server \(srvid) removed, stopping its worker", worker: worker.name)
        switch worker.process {
        case .running(let running):
            actions.append(.sendToWorker(pid: running.pid, .stop))
            retiring[running.pid] = RetiringWorkerProcess(
                srvid: srvid, name: worker.name, killAt: now + timings.stopGracePeriod)
        case .terminatingUnresponsive(let pid, _, _, let killAt):
            // Already sent SIGTERM; its SIGKILL stays on schedule.
            retiring[pid] = RetiringWorkerProcess(srvid: srvid, name: worker.name, killAt: killAt)
        case .spawning, .waitingToRestart:
            // No process yet: a late `workerSpawned` is stopped on arrival.
            break
        }
    }

    // MARK: - Worker processes

    private mutating func workerSpawned(srvid: Int, pid: Int32, now: Double) {
        guard var worker = workers[srvid], case .spawning = worker.process,
              phase == .running || isShuttingDown
        else {
            // Its server was removed meanwhile: stop it at once.
            let killAt = now + timings.stopGracePeriod
            retiring[pid] = RetiringWorkerProcess(srvid: srvid, name: "server \(srvid)", killAt: killAt)
            actions.append(.sendToWorker(pid: pid, .stop))
            return
        }
        if case .shuttingDown(let killAt) = phase {
            workers[srvid] = nil
            retiring[pid] = RetiringWorkerProcess(srvid: srvid, name: worker.name, killAt: killAt)
            actions.append(.sendToWorker(pid: pid, .stop))
            return
        }
        worker.process = .running(RunningWorkerProcess(pid: pid, spawnedAt: now))
        workers[srvid] = worker
        log(.info, "worker started (pid \(pid))", worker: worker.name)
        actions.append(.sendToWorker(pid: pid, .start(worker.configuration)))
    }

    private mutating func workerSpawnFailed(srvid: Int, reason: String, now: Double) {
        guard var worker = workers[srvid], case .spawning = worker.process else { return }
        if isShuttingDown {
            workers[srvid] = nil
            return
        }
        scheduleRestart(&worker, reason: .spawnFailed(reason), uptime: 0, now: now)
        workers[srvid] = worker
    }

    private mutating func workerMessage(pid: Int32, _ message: WorkerMessage, now: Double) {
        guard let srvid = srvidOfRunningWorker(pid: pid), var worker = workers[srvid],
              case .running(var running) = worker.process
        else { return }  // a stopping process's last words, or a stranger
        running.lastHeardAt = now
        if case .status(let status) = message {
            if status.status != running.status?.status {
                log(.debug, "status: \(status.status)", worker: worker.name)
            }
            if running.record(status) {
                worker.lastSnapshotSeenStartingAt = now
                running.forcedSnapshotRequestedAt = nil
            }
        }
        worker.process = .running(running)
        workers[srvid] = worker
    }

    private mutating func workerMalformedLine(pid: Int32, reason: String) {
        let name = workers.values.first(where: { $0.pid == pid })?.name ?? retiring[pid]?.name
        log(.warning, "ignored a malformed line from worker process \(pid): \(Self.shortened(reason))"
            + " (worker and supervisor from different builds? install both from one build)",
            worker: name)
    }

    private mutating func workerExited(pid: Int32, _ termination: WorkerTermination, now: Double) {
        if let process = retiring.removeValue(forKey: pid) {
            log(.info, "worker stopped (\(termination))", worker: process.name)
            return
        }
        guard let (srvid, worker) = workers.first(where: { $0.value.pid == pid }) else { return }
        var restarted = worker
        restarted.keepCounters(of: worker.currentStatus)
        switch worker.process {
        case .running(let running):
            scheduleRestart(&restarted, reason: .terminated(termination), uptime: now - running.spawnedAt, now: now)
        case .terminatingUnresponsive(_, let spawnedAt, let silentFor, _):
            scheduleRestart(&restarted, reason: .unresponsive(silentFor: silentFor), uptime: now - spawnedAt, now: now)
        case .spawning, .waitingToRestart:
            return
        }
        workers[srvid] = restarted
    }

    /// Puts `worker` in the waiting-to-restart state with the next backoff
    /// delay, which starts over when the process had been up long enough to
    /// call it healthy.
    private mutating func scheduleRestart(
        _ worker: inout SupervisedWorker, reason: WorkerRestartReason, uptime: Double, now: Double
    ) {
        if uptime >= timings.healthyUptime { worker.restartBackoff.reset() }
        worker.restarts += 1
        let delay = worker.restartBackoff.nextDelay()
        worker.process = .waitingToRestart(at: now + delay, reason: reason)
        log(.error, "\(reason); restarting the worker in \(Self.seconds(delay))"
            + " (its last lines in this log say why)", worker: worker.name)
    }

    private func srvidOfRunningWorker(pid: Int32) -> Int? {
        workers.first(where: {
            if case .running(let running) = $0.value.process { running.pid == pid } else { false }
        })?.key
    }

    // MARK: - Time

    private mutating func tick(now: Double) {
        switch phase {
        case .running:
            reconnectRepositoryIfDue(now: now)
            superviseWorkers(now: now)
            killRetiringProcessesIfDue(now: now)
        case .shuttingDown(let killAt) where now >= killAt:
            for pid in retiring.keys.sorted() where retiring[pid]?.killAt != nil {
                log(.warning, "worker did not stop in time, killing it (its snapshot is rolled back)", worker: retiring[pid]?.name)
                actions.append(.signalWorker(pid: pid, .kill))
            }
            exit(code: 0)
        case .shuttingDown:
            killRetiringProcessesIfDue(now: now)
        case .notStarted, .starting, .finished:
            break
        }
    }

    private mutating func reconnectRepositoryIfDue(now: Double) {
        guard case .waitingToReconnect(let at) = repository.state, now >= at else { return }
        repository.state = .connecting
        actions.append(.connectRepository(dsn: configuration.repositoryDSN))
    }

    /// The watchdog (SIGTERM after `watchdogSilenceLimit` of silence,
    /// SIGKILL `watchdogKillGrace` later) and the restarts that are due.
    private mutating func superviseWorkers(now: Double) {
        for srvid in workers.keys.sorted() {
            guard var worker = workers[srvid] else { continue }
            switch worker.process {
            case .running(let running) where now - running.lastHeardAt >= timings.watchdogSilenceLimit:
                let silence = now - running.lastHeardAt
                log(.error, "worker sent nothing for \(Self.seconds(silence)), terminating it"
                    + " (see its last lines in this log, and pg_stat_activity on the server, for where it hung)",
                    worker: worker.name)
                actions.append(.signalWorker(pid: running.pid, .terminate))
                worker.process = .terminatingUnresponsive(
                    pid: running.pid, spawnedAt: running.spawnedAt, silentFor: silence,
                    killAt: now + timings.watchdogKillGrace)
            case .terminatingUnresponsive(let pid, let spawnedAt, let silence, let killAt?) where now >= killAt:
                log(.error, "worker did not exit after SIGTERM, killing it", worker: worker.name)
                actions.append(.signalWorker(pid: pid, .kill))
                worker.process = .terminatingUnresponsive(pid: pid, spawnedAt: spawnedAt, silentFor: silence, killAt: nil)
            case .waitingToRestart(let at, _) where now >= at:
                log(.info, "restarting worker", worker: worker.name)
                worker.process = .spawning
                actions.append(.spawnWorker(worker.configuration))
            default:
                continue
            }
            workers[srvid] = worker
        }
    }

    private mutating func killRetiringProcessesIfDue(now: Double) {
        for pid in retiring.keys.sorted() {
            guard let process = retiring[pid], let killAt = process.killAt, now >= killAt else { continue }
            log(.warning, "worker did not stop in time, killing it (its snapshot is rolled back)", worker: process.name)
            actions.append(.signalWorker(pid: pid, .kill))
            retiring[pid]?.killAt = nil
        }
    }

    // MARK: - Signals and shutdown

    private mutating func signalReceived(_ signal: SupervisorSignal, now: Double) {
        switch signal {
        case .hangup:
            log(.debug, "SIGHUP received")
            if phase == .starting || phase == .running { reloadRequested = true }
        case .terminate, .interrupt:
            log(.debug, "\(signal == .terminate ? "SIGTERM" : "SIGINT") received")
            beginShutdown(now: now)
        }
    }

    private var isShuttingDown: Bool {
        if case .shuttingDown = phase { true } else { false }
    }

    /// Sends `stop` to every worker and gives them `stopGracePeriod` in
    /// all. Workers waiting to restart are simply forgotten; a spawn in
    /// flight is stopped when its pid arrives.
    private mutating func beginShutdown(now: Double) {
        switch phase {
        case .notStarted, .starting:
            log(.info, "stopping")
            exit(code: 0)
            return
        case .running:
            break
        case .shuttingDown, .finished:
            return  // already on its way out, SIGKILL deadline unchanged
        }
        let killAt = now + timings.stopGracePeriod
        phase = .shuttingDown(killAt: killAt)
        if case .waitingToReconnect = repository.state { repository.state = .disconnected }
        log(.info, "stopping all workers and exiting")
        for srvid in workers.keys.sorted() {
            guard let worker = workers[srvid] else { continue }
            switch worker.process {
            case .running(let running):
                actions.append(.sendToWorker(pid: running.pid, .stop))
                retiring[running.pid] = RetiringWorkerProcess(srvid: srvid, name: worker.name, killAt: killAt)
                workers[srvid] = nil
            case .terminatingUnresponsive(let pid, _, _, let workerKillAt):
                retiring[pid] = RetiringWorkerProcess(
                    srvid: srvid, name: worker.name, killAt: workerKillAt.map { min($0, killAt) })
                workers[srvid] = nil
            case .waitingToRestart:
                workers[srvid] = nil
            case .spawning:
                continue
            }
        }
        for pid in retiring.keys {
            if let processKillAt = retiring[pid]?.killAt { retiring[pid]?.killAt = min(processKillAt, killAt) }
        }
    }

    // MARK: - Notifications

    /// A request whose only effect is its answer (WORKERS_STATUS, an
    /// unknown or malformed command, anything while shutting down) is
    /// answered at once, the answer sent only if the sender is permitted;
    /// any other waits for the sender's check.
    private mutating func notificationFromUncheckedSender(payload: String, senderPID: Int32, now: Double) {
        let request = NotifyRequest(payload: payload)
        guard let channel = request.responseChannel, NotifyRequest.isUsableChannel(channel),
              let (status, data) = answerOnly(to: request, now: now),
              let answer = NotifyAnswer(command: request.command, status: status, data: data).payload,
              let denied = NotifyAnswer(command: request.command, status: .error, data: Self.permissionDenied).payload
        else {
            actions.append(.checkSenderPermission(payload: payload, senderPID: senderPID))
            return
        }
        logReceived(request, on: channel)
        // Counted when the shell reports whether the sender was permitted
        // (`notificationAnsweredIfPermitted`).
        actions.append(.answerNotificationIfPermitted(
            channel: channel, senderPID: senderPID, payload: answer, deniedPayload: denied,
            refusal: Self.refusal(of: request)))
    }

    /// The answer to `request` when answering is all it takes, else nil.
    private func answerOnly(to request: NotifyRequest, now: Double) -> (NotifyAnswerStatus, String)? {
        switch request.parsedCommand {
        case .failure(let error):
            return (.error, error.reason)
        case .success(.unknown):
            return (.unknown, Self.unknownCommand)
        case .success(.workersStatus(let scope)):
            return (.ok, workersStatusJSON(scope, now: now))
        case .success:
            return isShuttingDown ? (.error, Self.shuttingDown) : nil
        }
    }

    static let permissionDenied = "Permission denied"
    static let unknownCommand = "unknown command, ignored"
    static let shuttingDown = "the collector is shutting down"

    static func refusal(of request: NotifyRequest) -> String {
        "refused \(shortened(request.command)): the sender is not permitted"
    }

    private mutating func logReceived(_ request: NotifyRequest, on channel: String?) {
        log(.debug, "received \(Self.shortened(request.command)) on channel \(Self.shortened(channel ?? "-"))"
            + " with \(request.arguments.count) argument\(request.arguments.count == 1 ? "" : "s")")
    }

    private func workersStatusJSON(_ scope: NotifyCommand.WorkersStatusScope, now: Double) -> String {
        var statuses = workersStatus(now: now)
        switch scope {
        case .allServers: break
        case .server(let srvid): statuses = statuses.filter { $0.key == srvid }
        case .noServer: statuses = [:]
        }
        return WorkersStatusJSON.encode(statuses)
    }

    private mutating func notificationReceived(_ request: NotifyRequest, senderPermitted: Bool, now: Double) {
        var channel = request.responseChannel
        logReceived(request, on: channel)
        if let unusable = channel, !NotifyRequest.isUsableChannel(unusable) {
            log(.warning, "cannot answer \(Self.shortened(request.command)) on channel "
                + "\"\(Self.shortened(unusable))\": not a valid channel name")
            channel = nil
        }
        guard senderPermitted else {
            log(.warning, Self.refusal(of: request))
            answer(request, on: channel, .error, Self.permissionDenied, outcome: "denied")
            return
        }
        let command: NotifyCommand
        switch request.parsedCommand {
        case .failure(let error):
            answer(request, on: channel, .error, error.reason)
            return
        case .success(let parsed):
            command = parsed
        }
        if isShuttingDown, command != .unknown, !command.isWorkersStatus {
            answer(request, on: channel, .error, Self.shuttingDown)
            return
        }
        switch command {
        case .unknown:
            answer(request, on: channel, .unknown, Self.unknownCommand)
        case .reload:
            reloadRequested = true
            answer(request, on: channel, .ok, "OK")
        case .workersStatus(let scope):
            guard channel != nil else {  // nothing to do without an answer
                notifyRequests.record(command: request.command, outcome: "unanswered")
                return
            }
            answer(request, on: channel, .ok, workersStatusJSON(scope, now: now))
        case .forceSnapshot(let srvid):
            let (status, data) = forceSnapshot(srvid: srvid, now: now)
            answer(request, on: channel, status, data)
        case .refreshCatalogs(let srvid, let dbnames):
            let (status, data) = refreshCatalogs(srvid: srvid, dbnames: dbnames, now: now)
            answer(request, on: channel, status, data)
        }
    }

    /// Applies the reference's rules: refused while a snapshot runs, while a
    /// forced one is queued, and within `forcedSnapshotMinimumInterval` of
    /// the last snapshot start.
    private mutating func forceSnapshot(srvid: Int, now: Double) -> (NotifyAnswerStatus, String) {
        guard var worker = workers[srvid] else { return (.error, "no worker for server id \(srvid)") }
        guard case .running(var running) = worker.process else {
            return (.error, "the worker of server id \(srvid) is not running (\(worker.statusText(now: now)))")
        }
        if running.status?.snapshotRunning == true {
            return (.error, "a snapshot is already running")
        }
        if let requestedAt = running.forcedSnapshotRequestedAt, now - requestedAt < timings.forcedSnapshotQueueTimeout {
            return (.error, "a forced snapshot is already queued")
        }
        if let lastStart = worker.lastSnapshotSeenStartingAt, now - lastStart < timings.forcedSnapshotMinimumInterval {
            return (.error, "the last snapshot started less than "
                + "\(Self.seconds(timings.forcedSnapshotMinimumInterval)) ago")
        }
        running.forcedSnapshotRequestedAt = now
        worker.process = .running(running)
        workers[srvid] = worker
        log(.info, "forced snapshot requested", worker: worker.name)
        actions.append(.sendToWorker(pid: running.pid, .forceSnapshot))
        return (.ok, "snapshot will begin shortly")
    }

    private mutating func refreshCatalogs(srvid: Int, dbnames: [String], now: Double) -> (NotifyAnswerStatus, String) {
        guard let worker = workers[srvid] else { return (.error, "no worker for server id \(srvid)") }
        guard case .running(let running) = worker.process else {
            return (.error, "the worker of server id \(srvid) is not running (\(worker.statusText(now: now)))")
        }
        actions.append(.sendToWorker(pid: running.pid, .refreshCatalogs(dbnames: dbnames)))
        return (.ok, "catalogs will be refreshed at the next snapshot")
    }

    private mutating func answer(
        _ request: NotifyRequest, on channel: String?, _ status: NotifyAnswerStatus, _ data: String,
        outcome: String? = nil
    ) {
        guard let channel else {
            notifyRequests.record(command: request.command, outcome: outcome ?? NotifyRequestCounters.outcome(status))
            return
        }
        let answer = NotifyAnswer(command: request.command, status: status, data: data)
        guard let payload = answer.payload else {
            notifyRequests.record(command: request.command, outcome: "unanswered")
            log(.warning, "cannot answer \(Self.shortened(request.command)): even the short answer is too long")
            return
        }
        let sentStatus = payload.hasPrefix("\(request.command) \(NotifyAnswerStatus.ko.rawValue) ") ? .ko : status
        notifyRequests.record(command: request.command, outcome: outcome ?? NotifyRequestCounters.outcome(sentStatus))
        actions.append(.answerNotification(channel: channel, payload: payload))
    }

    // MARK: - After every event

    /// Starts what became possible: a wanted server list read once the
    /// repository is connected, a requested reload once none is running, and
    /// the exit once the last worker of a shutdown is gone.
    private mutating func followUp() {
        if phase == .running, reloadRequested, reloadStage == .idle {
            reloadRequested = false
            reloadStage = .readingConfigurationFile
            log(.info, "reloading the configuration")
            actions.append(.reloadConfigurationFile)
        }
        if phase == .starting || phase == .running, serverListRead == .wanted, repository.state == .connected {
            serverListRead = .inFlight
            actions.append(.readServerList)
        }
        if isShuttingDown, retiring.isEmpty, workers.isEmpty {
            log(.info, "all workers stopped")
            exit(code: 0)
        }
    }

    private mutating func exit(code: Int32) {
        actions.append(.exit(code: code))
        phase = .finished
    }

    private mutating func log(_ level: Logger.Level, _ message: String, worker: String? = nil) {
        actions.append(.log(level, message, worker: worker))
    }

    /// Whole seconds for messages, e.g. "4 s".
    private static func seconds(_ value: Double) -> String { "\(Int(value.rounded())) s" }

    /// Words from a notification can be up to 8000 bytes of anything; logs
    /// get at most 64 characters of them.
    private static func shortened(_ text: String) -> String {
        text.count <= 64 ? text : String(text.prefix(64)) + "…"
    }
}
