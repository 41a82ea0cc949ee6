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
    /// What a timer is for: one per worker (its liveness deadline, kill
    /// or restart time, whichever its state needs), one per retiring
    /// process, and the machine's own.
    enum TimerKey: Hashable, Sendable {
        case worker(srvid: Int)
        case retiring(pid: Int32)
        case repositoryReconnect
        case shutdownKill
        case spawnPacing
    }

    /// Every deadline, so that no event scans the workers for them.
    private var timers = TimerHeap<TimerKey>()
    /// The server id of each worker process (running or being ended), so
    /// that a line or an exit finds its worker without a scan.
    private var srvidByPid: [Int32: Int] = [:]
    private var slots = SnapshotSlots(capacity: CollectorConfiguration.defaultMaxConcurrentSnapshots)
    private var pacer: SpawnPacer
    /// Servers waiting for the pacer, in order; entries whose worker is no
    /// longer `waitingToSpawn` are skipped.
    private var spawnQueue: [Int] = []
    private var spawnQueueHead = 0

    /// Warnings about requests, aggregated so that no sender floods the log.
    private var requestLog = RequestLogThrottle()
    /// Every request received, by command and outcome, for the metrics.
    public private(set) var requestCounters = NotifyRequestCounters()

    public init(timings: SupervisorTimings = .standard) {
        self.timings = timings
        self.repository = RepositoryLink(timings: timings)
        self.pacer = SpawnPacer(burst: timings.spawnBurst, perSecond: timings.spawnsPerSecond)
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
        case .workerChecked(let pid, let sample): workerChecked(pid: pid, sample, now: now)
        case .loopStalled(let seconds):
            log(seconds >= 5 ? .warning : .debug, "the supervisor itself did not run for \(Self.seconds(seconds))"
                + " (machine overloaded or process stopped); that time is not counted against the workers")
        case .signalReceived(let signal): signalReceived(signal, now: now)
        case .notificationReceived(let payload, let permitted, let senderPID):
            notificationReceived(NotifyRequest(payload: payload), senderPermitted: permitted, senderPID: senderPID, now: now)
        case .notificationFromUncheckedSender(let payload, let senderPID):
            notificationFromUncheckedSender(payload: payload, senderPID: senderPID, now: now)
        case .conditionalAnswerSent(let request, let senderPID, let permitted):
            conditionalAnswerSent(request, senderPID: senderPID, permitted: permitted, now: now)
        case .tick: tick(now: now)
        }
        if let due = requestLog.nextSummaryDue, now >= due {
            for line in requestLog.flush(now: now) { log(.warning, line) }
        }
        followUp()
        defer { actions = [] }
        return actions
    }

    /// When the next `tick` is due, or nil when nothing is waiting on time.
    public var nextDeadline: Double? {
        let timer = timers.nextDeadline?.seconds
        guard let due = requestLog.nextSummaryDue else { return timer }
        return min(timer ?? due, due)
    }

    /// The status string of every worker, by server id, as `WORKERS_STATUS`
    /// reports it. A removed server whose worker is still exiting, and every
    /// worker once the collector is shutting down, shows as `stopping`.
    public func workersStatus(now: Double) -> [Int: String] {
        var statuses: [Int: String] = [:]
        for process in retiring.values { statuses[process.srvid] = WorkerStatusText.stopping }
        for (srvid, worker) in workers {
            statuses[srvid] = isShuttingDown
                ? WorkerStatusText.stopping : worker.statusText(now: now, slot: slots.standing(of: srvid))
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
        var servers = workers.keys.sorted().map { workers[$0]!.metrics(srvid: $0, now: now, slot: slots.standing(of: $0)) }
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
            servers: servers, notifyRequests: requestCounters,
            snapshotSlots: .init(capacity: slots.capacity, inUse: slots.holderCount, waiting: slots.waitingCount))
    }

    // MARK: - Startup and repository connection

    private mutating func start(_ loaded: LoadedConfiguration) {
        guard phase == .notStarted else { return }
        phase = .starting
        configuration = loaded.configuration
        _ = slots.setCapacity(configuration.maxConcurrentSnapshots, now: MonotonicInstant(seconds: 0))
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
        schedule(.repositoryReconnect, at: now + delay)
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
            if previous.maxConcurrentSnapshots != configuration.maxConcurrentSnapshots {
                log(.info, "max_concurrent_snapshots is now \(configuration.maxConcurrentSnapshots)")
                sendGrants(slots.setCapacity(configuration.maxConcurrentSnapshots, now: MonotonicInstant(seconds: now)), now: now)
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
                    configuration: configuration, process: .waitingToSpawn,
                    restartBackoff: ExponentialBackoff(
                        initialDelay: timings.restartInitialDelay, maximumDelay: timings.restartMaximumDelay))
                spawnQueue.append(srvid)
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
        pumpSpawnQueue(now: now)
    }

    private mutating func removeWorker(srvid: Int, now: Double) {
        guard let worker = forgetWorker(srvid: srvid, now: now) else { return }
        log(.info, "server \(srvid) removed, stopping its worker", worker: worker.name)
        switch worker.process {
        case .running(let running):
            actions.append(.sendToWorker(pid: running.pid, .stop))
            retire(pid: running.pid, srvid: srvid, name: worker.name, killAt: now + timings.stopGracePeriod)
        case .terminatingUnresponsive(let pid, _, _, let killAt):
            // Already sent SIGTERM; its SIGKILL stays on schedule.
            retire(pid: pid, srvid: srvid, name: worker.name, killAt: killAt)
        case .waitingToSpawn, .spawning, .waitingToRestart:
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
            retire(pid: pid, srvid: srvid, name: "server \(srvid)", killAt: now + timings.stopGracePeriod)
            actions.append(.sendToWorker(pid: pid, .stop))
            return
        }
        if case .shuttingDown(let killAt) = phase {
            workers[srvid] = nil
            retire(pid: pid, srvid: srvid, name: worker.name, killAt: killAt)
            actions.append(.sendToWorker(pid: pid, .stop))
            return
        }
        // The start grace counts from here: the process really exists now.
        worker.process = .running(RunningWorkerProcess(pid: pid, spawnedAt: now))
        srvidByPid[pid] = srvid
        store(worker, srvid: srvid)
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
        store(worker, srvid: srvid)
    }

    private mutating func workerMessage(pid: Int32, _ message: WorkerMessage, now: Double) {
        guard let srvid = srvidByPid[pid], var worker = workers[srvid],
              case .running(var running) = worker.process, running.pid == pid
        else {
            // A stopping process's last words, or a stranger. A retiring
            // process gave its slot up when it was retired, and is never
            // granted one.
            return
        }
        if running.suspicion != RunningWorkerProcess.Suspicion() {
            if running.suspicion.extensions > 0 {
                log(.info, "worker heard from again after \(Self.seconds(now - running.lastHeardAt))"
                    + " of silence: it was slow, not dead", worker: worker.name)
            }
            running.suspicion = RunningWorkerProcess.Suspicion()
        }
        running.lastHeardAt = now
        switch message {
        case .slotRequest:
            if slots.request(srvid, now: MonotonicInstant(seconds: now)) {
                actions.append(.sendToWorker(pid: pid, .slotGranted))
            } else {
                log(.debug, "waiting for a snapshot slot (\(slots.waitingCount) waiting)", worker: worker.name)
            }
        case .slotRelease:
            releaseSlot(srvid: srvid, now: now)
        case .heartbeat, .status:
            break
        }
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
        store(worker, srvid: srvid)
    }

    private mutating func workerMalformedLine(pid: Int32, reason: String) {
        let name = srvidByPid[pid].flatMap { workers[$0]?.name } ?? retiring[pid]?.name
        log(.warning, "ignored a malformed line from worker process \(pid): \(Self.shortened(reason))"
            + " (worker and supervisor from different builds? install both from one build)",
            worker: name)
    }

    private mutating func workerExited(pid: Int32, _ termination: WorkerTermination, now: Double) {
        if let process = retiring.removeValue(forKey: pid) {
            timers.cancel(.retiring(pid: pid))
            log(.info, "worker stopped (\(termination))", worker: process.name)
            return
        }
        guard let srvid = srvidByPid.removeValue(forKey: pid), let worker = workers[srvid], worker.pid == pid
        else { return }
        // Mid-snapshot or waiting: its place goes to the next in line.
        releaseSlot(srvid: srvid, now: now)
        var restarted = worker
        restarted.keepCounters(of: worker.currentStatus)
        switch worker.process {
        case .running(let running):
            scheduleRestart(&restarted, reason: .terminated(termination), uptime: now - running.spawnedAt, now: now)
        case .terminatingUnresponsive(_, let spawnedAt, let silentFor, _):
            scheduleRestart(&restarted, reason: .unresponsive(silentFor: silentFor), uptime: now - spawnedAt, now: now)
        case .waitingToSpawn, .spawning, .waitingToRestart:
            return
        }
        store(restarted, srvid: srvid)
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
            + "; its last log lines say why", worker: worker.name)
    }

    // MARK: - Time

    /// Handles the timers that are due, and only those.
    private mutating func tick(now: Double) {
        for key in timers.popExpired(now: MonotonicInstant(seconds: now)) {
            switch key {
            case .repositoryReconnect:
                guard phase == .running, case .waitingToReconnect = repository.state else { continue }
                repository.state = .connecting
                actions.append(.connectRepository(dsn: configuration.repositoryDSN))
            case .shutdownKill:
                guard case .shuttingDown = phase else { continue }
                for pid in retiring.keys.sorted() where retiring[pid]?.killAt != nil {
                    log(.warning, "worker did not stop in time, killing it", worker: retiring[pid]?.name)
                    actions.append(.signalWorker(pid: pid, .kill))
                }
                exit(code: 0)
                return
            case .retiring(let pid):
                guard let process = retiring[pid], process.killAt != nil else { continue }
                log(.warning, "worker did not stop in time, killing it", worker: process.name)
                actions.append(.signalWorker(pid: pid, .kill))
                retiring[pid]?.killAt = nil
            case .spawnPacing:
                pumpSpawnQueue(now: now)
            case .worker(let srvid):
                workerTimerFired(srvid: srvid, now: now)
            }
        }
    }

    /// One worker's deadline passed: the watchdog's turn (a running worker
    /// overdue, or a SIGTERM without effect) or its restart.
    private mutating func workerTimerFired(srvid: Int, now: Double) {
        guard phase == .running, var worker = workers[srvid] else { return }
        switch worker.process {
        case .running(var running):
            guard now >= running.livenessDeadline(timings), !running.suspicion.checking else {
                store(worker, srvid: srvid)
                return
            }
            // Slow is not dead: what waits in its pipe, and its /proc
            // state, come before any verdict.
            running.suspicion.checking = true
            worker.process = .running(running)
            store(worker, srvid: srvid)
            actions.append(.checkWorker(pid: running.pid))
        case .terminatingUnresponsive(let pid, let spawnedAt, let silence, let killAt?) where now >= killAt:
            log(.error, "worker did not exit after SIGTERM, killing it", worker: worker.name)
            actions.append(.signalWorker(pid: pid, .kill))
            worker.process = .terminatingUnresponsive(pid: pid, spawnedAt: spawnedAt, silentFor: silence, killAt: nil)
            store(worker, srvid: srvid)
        case .waitingToRestart(let at, _) where now >= at:
            log(.info, "restarting worker", worker: worker.name)
            worker.process = .waitingToSpawn
            store(worker, srvid: srvid)
            spawnQueue.append(srvid)
            pumpSpawnQueue(now: now)
        case .waitingToSpawn, .spawning, .terminatingUnresponsive, .waitingToRestart:
            store(worker, srvid: srvid)
        }
    }

    /// The verdict on a suspect, its pipe read (any line found cleared the
    /// suspicion already) and its process sampled.
    private mutating func workerChecked(pid: Int32, _ sample: ProcessSample?, now: Double) {
        guard let srvid = srvidByPid[pid], var worker = workers[srvid],
              case .running(var running) = worker.process, running.pid == pid
        else { return }
        let wasChecking = running.suspicion.checking
        running.suspicion.checking = false
        let silence = now - running.lastHeardAt
        defer {
            if case .running = worker.process { worker.process = .running(running) }
            store(worker, srvid: srvid)
        }
        guard wasChecking, phase == .running, now >= running.livenessDeadline(timings) else { return }
        switch running.suspicion.judge(sample, now: now, timings: timings) {
        case .spare(let usingCPU):
            if usingCPU {
                log(.warning, "worker sent nothing for \(Self.seconds(silence)) but is using CPU: slow, not dead; "
                    + "checking again in \(Self.seconds(timings.slowWorkerExtension))", worker: worker.name)
            }
            return
        case .end(let reason):
            log(.error, "worker sent nothing for \(Self.seconds(silence)) and \(reason), terminating it",
                worker: worker.name)
        }
        actions.append(.signalWorker(pid: pid, .terminate))
        releaseSlot(srvid: srvid, now: now)
        worker.process = .terminatingUnresponsive(
            pid: pid, spawnedAt: running.spawnedAt, silentFor: silence, killAt: now + timings.watchdogKillGrace)
    }

    // MARK: - Bookkeeping that keeps events free of scans

    /// Stores `worker` and arms its one timer for what its state waits on.
    private mutating func store(_ worker: SupervisedWorker, srvid: Int) {
        workers[srvid] = worker
        switch worker.process {
        case .running(let running):
            schedule(.worker(srvid: srvid), at: running.livenessDeadline(timings))
        case .terminatingUnresponsive(_, _, _, let killAt?):
            schedule(.worker(srvid: srvid), at: killAt)
        case .waitingToRestart(let at, _):
            schedule(.worker(srvid: srvid), at: at)
        case .waitingToSpawn, .spawning, .terminatingUnresponsive:
            timers.cancel(.worker(srvid: srvid))
        }
    }

    /// Removes a worker from the fleet: its timer, its slot, its pid.
    private mutating func forgetWorker(srvid: Int, now: Double) -> SupervisedWorker? {
        guard let worker = workers.removeValue(forKey: srvid) else { return nil }
        timers.cancel(.worker(srvid: srvid))
        releaseSlot(srvid: srvid, now: now)
        if let pid = worker.pid { srvidByPid[pid] = nil }
        return worker
    }

    private mutating func retire(pid: Int32, srvid: Int, name: String, killAt: Double?) {
        retiring[pid] = RetiringWorkerProcess(srvid: srvid, name: name, killAt: killAt)
        if let killAt { schedule(.retiring(pid: pid), at: killAt) } else { timers.cancel(.retiring(pid: pid)) }
    }

    private mutating func schedule(_ key: TimerKey, at seconds: Double) {
        timers.schedule(key, at: MonotonicInstant(seconds: seconds))
    }

    /// Gives `srvid`'s slot (or place in line) back and grants the next.
    private mutating func releaseSlot(srvid: Int, now: Double) {
        guard slots.standing(of: srvid) != .none else { return }
        sendGrants(slots.release(srvid, now: MonotonicInstant(seconds: now)), now: now)
    }

    /// Tells each newly granted worker; one that is no longer running
    /// gives its slot straight back.
    private mutating func sendGrants(_ granted: [Int], now: Double) {
        var pending = granted
        while !pending.isEmpty {
            let srvid = pending.removeFirst()
            if let worker = workers[srvid], case .running(let running) = worker.process {
                log(.debug, "snapshot slot granted to the next in line", worker: worker.name)
                actions.append(.sendToWorker(pid: running.pid, .slotGranted))
            } else {
                pending += slots.release(srvid, now: MonotonicInstant(seconds: now))
            }
        }
    }

    /// Spawns queued workers as fast as the pacer allows; arms the pacing
    /// timer for the rest.
    private mutating func pumpSpawnQueue(now: Double) {
        let instant = MonotonicInstant(seconds: now)
        while spawnQueueHead < spawnQueue.count {
            let srvid = spawnQueue[spawnQueueHead]
            guard var worker = workers[srvid], case .waitingToSpawn = worker.process else {
                spawnQueueHead += 1
                continue
            }
            guard phase == .running else { return }
            guard pacer.take(now: instant) else {
                timers.schedule(.spawnPacing, at: pacer.nextAvailable(now: instant))
                return
            }
            spawnQueueHead += 1
            worker.process = .spawning
            store(worker, srvid: srvid)
            actions.append(.spawnWorker(worker.configuration))
        }
        spawnQueue.removeAll(keepingCapacity: true)
        spawnQueueHead = 0
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
        schedule(.shutdownKill, at: killAt)
        timers.cancel(.repositoryReconnect)
        timers.cancel(.spawnPacing)
        if case .waitingToReconnect = repository.state { repository.state = .disconnected }
        log(.info, "stopping all workers and exiting")
        for srvid in workers.keys.sorted() {
            guard let worker = workers[srvid] else { continue }
            switch worker.process {
            case .running(let running):
                actions.append(.sendToWorker(pid: running.pid, .stop))
                _ = forgetWorker(srvid: srvid, now: now)
                retire(pid: running.pid, srvid: srvid, name: worker.name, killAt: killAt)
            case .terminatingUnresponsive(let pid, _, _, let workerKillAt):
                _ = forgetWorker(srvid: srvid, now: now)
                retire(pid: pid, srvid: srvid, name: worker.name, killAt: workerKillAt.map { min($0, killAt) })
            case .waitingToSpawn, .waitingToRestart:
                _ = forgetWorker(srvid: srvid, now: now)
            case .spawning:
                continue
            }
        }
        for pid in retiring.keys {
            if let processKillAt = retiring[pid]?.killAt {
                retire(pid: pid, srvid: retiring[pid]!.srvid, name: retiring[pid]!.name, killAt: min(processKillAt, killAt))
            }
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
              let (status, data, outcome) = answerOnly(to: request, now: now),
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
            request: ConditionalAnswer(command: request.command, outcomeIfPermitted: outcome)))
    }

    private mutating func conditionalAnswerSent(
        _ request: ConditionalAnswer, senderPID: Int32, permitted: Bool, now: Double
    ) {
        let command = NotifyRequestCounters.Command(word: request.command)
        guard permitted else {
            requestCounters.count(command, .refused)
            logRefusal(command: request.command, senderPID: senderPID, now: now)
            return
        }
        requestCounters.count(command, request.outcomeIfPermitted)
    }

    /// A warning about a request, aggregated by `kind` (never made of the
    /// request's own words) so that a flood of them stays a few lines.
    private mutating func warnAboutRequest(kind: String, _ message: String, senderPID: Int32, now: Double) {
        for line in requestLog.record(kind: kind, message: message, sender: senderPID, now: now) {
            log(.warning, line)
        }
    }

    private mutating func logRefusal(command: String, senderPID: Int32, now: Double) {
        let known = NotifyRequestCounters.Command(word: command)
        let kind = "refused \(known == .unknown ? "unknown commands" : known.rawValue): the sender is not permitted"
        warnAboutRequest(kind: kind, Self.refusal(of: command), senderPID: senderPID, now: now)
    }

    /// The answer to `request` when answering is all it takes, else nil.
    private func answerOnly(
        to request: NotifyRequest, now: Double
    ) -> (NotifyAnswerStatus, String, NotifyRequestCounters.Outcome)? {
        switch request.parsedCommand {
        case .failure(let error):
            return (.error, error.reason, .invalid)
        case .success(.unknown):
            return (.unknown, Self.unknownCommand, .unknownCommand)
        case .success(.workersStatus(let scope)):
            let (status, data) = workersStatusAnswer(scope, now: now)
            return (status, data, status == .ko ? .tooLong : .done)
        case .success:
            return isShuttingDown ? (.error, Self.shuttingDown, .declined) : nil
        }
    }

    static let permissionDenied = "Permission denied"
    static let unknownCommand = "unknown command, ignored"
    static let shuttingDown = "the collector is shutting down"

    static func refusal(of command: String) -> String {
        "refused \(shortened(command)): the sender is not permitted"
    }

    private mutating func logReceived(_ request: NotifyRequest, on channel: String?) {
        log(.debug, "received \(Self.shortened(request.command)) on channel \(Self.shortened(channel ?? "-"))"
            + " with \(request.arguments.count) argument\(request.arguments.count == 1 ? "" : "s")")
    }

    private func workersStatusAnswer(
        _ scope: NotifyCommand.WorkersStatusScope, now: Double
    ) -> (status: NotifyAnswerStatus, data: String) {
        var statuses = workersStatus(now: now)
        switch scope {
        case .allServers: break
        case .server(let srvid): statuses = statuses.filter { $0.key == srvid }
        case .noServer: statuses = [:]
        }
        return WorkersStatusAnswer.answer(statuses)
    }

    private mutating func notificationReceived(
        _ request: NotifyRequest, senderPermitted: Bool, senderPID: Int32, now: Double
    ) {
        let counted = NotifyRequestCounters.Command(word: request.command)
        var channel = request.responseChannel
        logReceived(request, on: channel)
        var unanswerable = false
        if let unusable = channel, !NotifyRequest.isUsableChannel(unusable) {
            warnAboutRequest(
                kind: "cannot answer requests on channels that are not valid names",
                "cannot answer \(Self.shortened(request.command)) on channel "
                    + "\"\(Self.shortened(unusable))\": not a valid channel name",
                senderPID: senderPID, now: now)
            channel = nil
            unanswerable = true
        }
        guard senderPermitted else {
            requestCounters.count(counted, .refused)
            logRefusal(command: request.command, senderPID: senderPID, now: now)
            answer(request, on: channel, .error, Self.permissionDenied, senderPID: senderPID, now: now)
            return
        }
        let outcome = carryOut(request, answeringOn: channel, senderPID: senderPID, now: now)
        requestCounters.count(counted, unanswerable ? .unanswerable : outcome)
    }

    /// Does what a permitted sender asked; returns what became of it.
    private mutating func carryOut(
        _ request: NotifyRequest, answeringOn channel: String?, senderPID: Int32, now: Double
    ) -> NotifyRequestCounters.Outcome {
        let command: NotifyCommand
        switch request.parsedCommand {
        case .failure(let error):
            return answer(request, on: channel, .error, error.reason, senderPID: senderPID, now: now, as: .invalid)
        case .success(let parsed):
            command = parsed
        }
        if isShuttingDown, command != .unknown, !command.isWorkersStatus {
            return answer(request, on: channel, .error, Self.shuttingDown, senderPID: senderPID, now: now, as: .declined)
        }
        switch command {
        case .unknown:
            return answer(request, on: channel, .unknown, Self.unknownCommand, senderPID: senderPID, now: now,
                          as: .unknownCommand)
        case .reload:
            reloadRequested = true
            return answer(request, on: channel, .ok, "OK", senderPID: senderPID, now: now)
        case .workersStatus(let scope):
            guard channel != nil else { return .done }  // nothing to do without an answer
            let (status, data) = workersStatusAnswer(scope, now: now)
            return answer(request, on: channel, status, data, senderPID: senderPID, now: now,
                          as: status == .ko ? .tooLong : .done)
        case .forceSnapshot(let srvid):
            let (status, data) = forceSnapshot(srvid: srvid, now: now)
            return answer(request, on: channel, status, data, senderPID: senderPID, now: now,
                          as: status == .ok ? .done : .declined)
        case .refreshCatalogs(let srvid, let dbnames):
            let (status, data) = refreshCatalogs(srvid: srvid, dbnames: dbnames, now: now)
            return answer(request, on: channel, status, data, senderPID: senderPID, now: now,
                          as: status == .ok ? .done : .declined)
        }
    }

    /// Applies `ForcedSnapshotRule` to what the worker last said; a request
    /// the worker has not acted on within `forcedSnapshotQueueTimeout` no
    /// longer counts as queued.
    private mutating func forceSnapshot(srvid: Int, now: Double) -> (NotifyAnswerStatus, String) {
        guard var worker = workers[srvid] else { return (.error, "no worker for server id \(srvid)") }
        guard case .running(var running) = worker.process else {
            return (.error, "the worker of server id \(srvid) is not running (\(worker.statusText(now: now)))")
        }
        let queued = running.forcedSnapshotRequestedAt.map { now - $0 < timings.forcedSnapshotQueueTimeout } ?? false
        if let refusal = ForcedSnapshotRule.refusal(
            snapshotRunning: running.status?.snapshotRunning == true, forcedSnapshotQueued: queued,
            secondsSinceLastStart: worker.lastSnapshotSeenStartingAt.map { now - $0 })
        {
            return (.error, refusal.description)
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

    /// Sends the answer, when there is a channel; returns `outcome`, or
    /// `tooLong` when the answer had to be replaced or dropped.
    @discardableResult
    private mutating func answer(
        _ request: NotifyRequest, on channel: String?, _ status: NotifyAnswerStatus, _ data: String,
        senderPID: Int32, now: Double, as outcome: NotifyRequestCounters.Outcome = .done
    ) -> NotifyRequestCounters.Outcome {
        guard let channel else { return outcome }
        let answer = NotifyAnswer(command: request.command, status: status, data: data)
        guard let payload = answer.payload else {
            warnAboutRequest(
                kind: "cannot answer requests whose command word is nearly 8000 bytes",
                "cannot answer \(Self.shortened(request.command)): even the short answer is too long",
                senderPID: senderPID, now: now)
            return .tooLong
        }
        actions.append(.answerNotification(channel: channel, payload: payload))
        return answer.fits ? outcome : .tooLong
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
    /// get at most 64 characters of them, control characters escaped.
    private static func shortened(_ text: String) -> String {
        LoggedRequestText.shortened(text)
    }
}
