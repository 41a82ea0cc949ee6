import Logging

/// Every decision of the `powa-collector` supervisor, without any I/O.
///
/// The shell turns what happens (a worker's line, an exit status, a signal,
/// a notification, time passing) into `SupervisorEvent`s, feeds them to
/// `handle(_:now:)`, and carries out the returned `SupervisorAction`s in
/// order. It calls `handle(.tick, now:)` when `now` reaches `nextDeadline`.
///
/// Time is an instant on a monotonic clock chosen by the shell, passed in
/// with every event so that tests decide what time it is.
///
/// The machine is a composition, each part its own machine in its own file:
/// the life-cycle `SupervisorPhase` (starting, running, reloading, shutting
/// down, each with only what it needs), the `RepositoryLink`, the
/// `WorkerFleet` (each worker a `WorkerMachine`), and the
/// `NotifyDispatcher`, and with several instances on the repository the
/// `CoordinationMachine`. This type routes each event to the part it concerns
/// and decides what depends on the phase.
///
/// Life cycle: `started` → connect to the repository → read the server list
/// → spawn one worker per server (running) → on SIGTERM/SIGINT, `stop` every
/// worker, SIGKILL what is left after `stopGracePeriod`, exit 0. A failure
/// to reach the repository or read the server list before the first list is
/// read exits 1, as the reference does: nothing could be collected.
public struct SupervisorStateMachine: Sendable {
    public let timings: SupervisorTimings

    private var phase: SupervisorPhase = .notStarted
    private var configuration = CollectorConfiguration(repositoryDSN: "")
    /// The metrics endpoint's address, opened at startup only.
    private var metricsListenAtStartup: ListenAddress?
    private var repository: RepositoryLink
    private var fleet: WorkerFleet
    private var dispatcher = NotifyDispatcher()
    /// nil for a machine alone on its repository (the unit tests' default);
    /// the daemon always coordinates.
    private var coordination: CoordinationMachine?
    private var actions: [SupervisorAction] = []

    /// `instance`: this collector's identity among the instances sharing the
    /// repository; nil runs alone, without the coordination schema.
    public init(timings: SupervisorTimings = .standard, instance: InstanceIdentity? = nil) {
        self.timings = timings
        repository = RepositoryLink(timings: timings)
        fleet = WorkerFleet(timings: timings)
        coordination = instance.map(CoordinationMachine.init(identity:))
    }

    // MARK: - What the shell reads

    /// True once the `exit` action was returned; later events are ignored.
    public var isFinished: Bool {
        if case .finished = phase { true } else { false }
    }

    /// When the next `tick` is due, or nil when nothing is waiting on time:
    /// the earliest of the parts' own deadlines.
    public var nextDeadline: MonotonicInstant? {
        var phaseDeadline: MonotonicInstant?
        switch phase {
        case .running, .reloading: phaseDeadline = Self.earliest(repository.reconnectAt, coordination?.nextDeadline)
        case .shuttingDown(let shutdown): phaseDeadline = shutdown.killAt
        case .notStarted, .starting, .finished: break
        }
        // Read at every wake-up: compared in place, nothing allocated.
        return Self.earliest(Self.earliest(fleet.nextDeadline, dispatcher.nextSummaryDue), phaseDeadline)
    }

    private static func earliest(_ a: MonotonicInstant?, _ b: MonotonicInstant?) -> MonotonicInstant? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }

    /// The status string of every worker, by server id, as `WORKERS_STATUS`
    /// reports it. A removed server whose worker is still exiting, and every
    /// worker once the collector is shutting down, shows as `stopping`.
    public func workersStatus(now: MonotonicInstant) -> [Int: String] {
        fleet.statuses(now: now)
    }

    /// How this instance shares the repository, for the status line and
    /// the metrics; nil when it runs alone (no coordination).
    public var coordinationSummary: CoordinationSummary? {
        coordination?.summary(workers: fleet.workerCount)
    }

    /// What a service manager is told (systemd's READY, RELOADING,
    /// STOPPING): ready once the first server list is read and its workers
    /// were asked to start, reloading from a reload's start to its end.
    public var serviceState: ServiceState {
        switch phase {
        case .notStarted, .starting: .starting
        case .running: .ready
        case .reloading: .reloading
        case .shuttingDown, .finished: .stopping
        }
    }

    /// Whether the supervisor's own repository connection is up.
    public var isRepositoryConnected: Bool { repository.isConnected }

    /// Every request received, by command and outcome, for the metrics.
    public var requestCounters: NotifyRequestCounters { dispatcher.counters }

    /// What the metrics endpoint reports. Reads every worker: for a scrape,
    /// not for every event.
    public func metrics(now: MonotonicInstant) -> SupervisorMetrics {
        let listRead: Bool
        switch phase {
        case .running, .reloading, .shuttingDown: listRead = true
        case .notStarted, .starting, .finished: listRead = false
        }
        let slots = fleet.slots
        return SupervisorMetrics(
            repositoryConnected: isRepositoryConnected, serverListRead: listRead, state: serviceState,
            servers: fleet.metrics(now: now), notifyRequests: requestCounters,
            snapshotSlots: .init(capacity: slots.capacity, inUse: slots.holderCount, waiting: slots.waitingCount),
            coordination: coordinationSummary)
    }

    // MARK: - Events

    public mutating func handle(_ event: SupervisorEvent, now: MonotonicInstant) -> [SupervisorAction] {
        if case .finished = phase { return [] }
        switch event {
        case .started(let loaded): start(loaded)
        case .repositoryConnected:
            let wasConnecting = repository.state == .connecting
            actions += repository.connected(now: now)
            if wasConnecting { coordination?.repositoryConnected() }
        case .repositoryConnectionFailed(let reason): repositoryDown(reason, wasConnected: false, now: now)
        case .repositoryConnectionLost(let reason): repositoryDown(reason, wasConnected: true, now: now)
        case .serverListRead(let rows): serverListArrived(rows, now: now)
        case .serverListReadFailed(let reason): serverListFailed(reason)
        case .configurationFileReloaded(let result): configurationReloaded(result, now: now)
        case .workerSpawned(let srvid, let pid): actions += fleet.spawned(srvid: srvid, pid: pid, now: now)
        case .workerSpawnFailed(let srvid, let reason):
            actions += fleet.spawnFailed(srvid: srvid, reason: reason, now: now)
        case .workerMessage(let pid, let message): actions += fleet.message(pid: pid, message, now: now)
        case .workerMalformedLine(let pid, let reason):
            log(
                .warning,
                "ignored a malformed line from worker process \(pid): \(LoggedRequestText.shortened(reason))"
                    + " (worker and supervisor from different builds? install both from one build)",
                worker: fleet.name(ofProcess: pid))
        case .workerInputDropped(let pid, let message, let drop): workerInputDropped(pid: pid, message: message, drop)
        case .workerExited(let pid, let termination): actions += fleet.exited(pid: pid, termination, now: now)
        case .launcherExited(let pid, let termination): launcherExited(pid: pid, termination)
        case .workerChecked(let pid, let sample): actions += fleet.checked(pid: pid, sample, now: now)
        case .loopStalled(let stall):
            log(
                stall >= .seconds(5) ? .warning : .debug,
                "the supervisor itself did not run for \(stall.roundedSecondsText)"
                    + " (machine overloaded or process stopped); that time is not counted against the workers")
        case .signalReceived(let signal): signalReceived(signal, now: now)
        case .notificationBatchBegan: dispatcher.batchBegan()
        case .notificationFromUncheckedSender(let payload, let senderPID):
            dispatched(
                dispatcher.arrived(
                    payload: payload, senderPID: senderPID, fleet: fleet, coordination: coordination, now: now),
                now: now)
        case .notificationReceived(let payload, let permitted, let senderPID):
            dispatched(
                dispatcher.checked(
                    payload: payload, senderPermitted: permitted, senderPID: senderPID,
                    fleet: fleet, coordination: coordination, now: now), now: now)
        case .senderPermissionCheckFailed(let payload, let senderPID, let reason):
            dispatched(
                dispatcher.checkFailed(
                    payload: payload, senderPID: senderPID, reason: reason, fleet: fleet,
                    coordination: coordination, now: now),
                now: now)
        case .conditionalAnswerSent(let request, let senderPID, let permitted):
            actions += dispatcher.conditionalAnswerSent(request, senderPID: senderPID, permitted: permitted, now: now)
        case .conditionalAnswerFailed(let request, let channel, let denied, let senderPID, let reason):
            actions += dispatcher.conditionalAnswerFailed(
                request, channel: channel, deniedPayload: denied, senderPID: senderPID, reason: reason, now: now)
        case .notificationAnswerFailed(let channel, let reason):
            actions += dispatcher.answerFailed(channel: channel, reason: reason)
        case .coordinationRead(let view): coordinationRead(view, now: now)
        case .coordinationFailed(let reason): coordinationFailed(reason, now: now)
        case .serversClaimed(let claimed): serversClaimed(claimed, now: now)
        case .tick: tick(now: now)
        }
        actions += dispatcher.tick(now: now)
        followUp(now: now)
        defer { actions = [] }
        return actions
    }

    // MARK: - Startup and repository connection

    private mutating func start(_ loaded: LoadedConfiguration) {
        guard case .notStarted = phase else { return }
        phase = .starting(StartingPhase())
        configuration = loaded.configuration
        metricsListenAtStartup = configuration.metricsListen
        actions += fleet.setSlotCapacity(configuration.maxConcurrentSnapshots, now: MonotonicInstant(nanoseconds: 0))
        actions.append(.setDebugLogging(configuration.debug))
        log(.info, "using configuration file \(loaded.path)")
        for warning in loaded.warnings { log(.warning, warning) }
        actions.append(repository.connect(to: configuration.repositoryDSN))
    }

    private mutating func repositoryDown(_ reason: String, wasConnected: Bool, now: MonotonicInstant) {
        switch phase {
        case .starting:
            log(
                .error,
                "cannot \(wasConnected ? "use" : "connect to") the repository: \(reason); "
                    + "check repository.dsn in the configuration file and that the repository server is up")
            exit(code: 1)
        case .running, .reloading(_):
            guard let logged = repository.failed(reason, wasConnected: wasConnected, now: now) else { return }
            actions += logged
            coordination?.repositoryLost()
            // A list read in flight is lost with the connection: read again.
            if case .reloading(var reload) = phase, reload.stage == .readingServerList(.inFlight) {
                reload.stage = .readingServerList(.wanted)
                phase = .reloading(reload)
            }
        case .notStarted, .shuttingDown, .finished:
            repository.markDown()
        }
    }

    // MARK: - Server list and reload

    private mutating func serverListArrived(_ rows: [ServerRow], now: MonotonicInstant) {
        switch phase {
        case .starting(let starting) where starting.serverList == .inFlight:
            let wanted = ServerRow.workerConfigurations(rows, collector: configuration)
            phase = .running
            log(.info, "\(wanted.count) server\(wanted.count == 1 ? "" : "s") to collect")
            applyListed(wanted, now: now)
            if starting.reloadRequested { beginReload() }
        case .reloading(let reload) where reload.stage == .readingServerList(.inFlight):
            applyListed(ServerRow.workerConfigurations(rows, collector: configuration), now: now)
            log(.info, "reload done")
            endReload(reload)
        case .notStarted, .starting, .running, .reloading, .shuttingDown, .finished:
            break  // not asked for (any more)
        }
    }

    private mutating func serverListFailed(_ reason: String) {
        switch phase {
        case .starting(let starting) where starting.serverList == .inFlight:
            log(
                .error,
                "cannot read the list of servers from the repository: \(reason); "
                    + "check that the role of repository.dsn may read powa_servers")
            exit(code: 1)
        case .reloading(let reload) where reload.stage == .readingServerList(.inFlight):
            log(.error, "reload failed, cannot read the list of servers: \(reason); nothing changed")
            endReload(reload)
        case .notStarted, .starting, .running, .reloading, .shuttingDown, .finished:
            break
        }
    }

    private mutating func configurationReloaded(
        _ result: Result<LoadedConfiguration, ConfigurationError>, now: MonotonicInstant
    ) {
        guard case .reloading(var reload) = phase, reload.stage == .readingConfigurationFile else { return }
        switch result {
        case .failure(let error):
            log(.error, "reload failed: \(error); keeping the previous configuration")
            endReload(reload)
        case .success(let loaded):
            for warning in loaded.warnings { log(.warning, warning) }
            let previous = configuration
            configuration = loaded.configuration
            if configuration.metricsListen != metricsListenAtStartup {
                log(
                    .warning,
                    "metrics_listen changed in \(loaded.path): the endpoint is opened at startup only, "
                        + "restart the collector to apply it")
            }
            if previous.debug != configuration.debug {
                actions.append(.setDebugLogging(configuration.debug))
            }
            if previous.maxConcurrentSnapshots != configuration.maxConcurrentSnapshots {
                log(.info, "max_concurrent_snapshots is now \(configuration.maxConcurrentSnapshots)")
                actions += fleet.setSlotCapacity(configuration.maxConcurrentSnapshots, now: now)
            }
            if previous.repositoryDSN != configuration.repositoryDSN {
                log(.info, "the repository DSN changed, connecting to the new repository")
                actions.append(repository.connect(to: configuration.repositoryDSN))
            }
            reload.stage = .readingServerList(.wanted)
            phase = .reloading(reload)
        }
    }

    /// From running: read the configuration file, then the server list.
    private mutating func beginReload() {
        guard case .running = phase else { preconditionFailure("a reload can only begin while running") }
        phase = .reloading(ReloadPhase())
        log(.info, "reloading the configuration")
        actions.append(.reloadConfigurationFile)
    }

    /// The reload is over, done or failed; one asked for meanwhile begins.
    private mutating func endReload(_ reload: ReloadPhase) {
        phase = .running
        if reload.againRequested { beginReload() }
    }

    /// SIGHUP or RELOAD: a reload now, after the one in progress, or after
    /// the first server list.
    private mutating func requestReload() {
        switch phase {
        case .starting(var starting):
            starting.reloadRequested = true
            phase = .starting(starting)
        case .running:
            beginReload()
        case .reloading(var reload):
            reload.againRequested = true
            phase = .reloading(reload)
        case .notStarted, .shuttingDown, .finished:
            break
        }
    }

    /// A new server list: alone, every server runs; with coordination,
    /// every server is remembered and only owned ones run.
    private mutating func applyListed(_ wanted: [Int: WorkerConfiguration], now: MonotonicInstant) {
        guard var coordination else {
            actions += fleet.apply(wanted, now: now)
            return
        }
        let step = coordination.listed(wanted, lease: configuration.coordinationLease)
        self.coordination = coordination
        carryOut(step, updatingVersions: true, now: now)
    }

    // MARK: - Coordination

    /// Coordination's results count only while collecting: once stopping,
    /// nothing is claimed nor applied any more.
    private var coordinates: Bool {
        switch phase {
        case .running, .reloading: true
        case .notStarted, .starting, .shuttingDown, .finished: false
        }
    }

    private mutating func coordinationRead(_ view: CoordinationView, now: MonotonicInstant) {
        guard coordinates, var coordination else { return }
        let step = coordination.read(
            view, running: fleet.workerSrvids, exiting: fleet.retiringSrvids, lease: configuration.coordinationLease,
            now: now)
        self.coordination = coordination
        carryOut(step, updatingVersions: false, now: now)
    }

    private mutating func serversClaimed(_ claimed: [Int: Int64], now: MonotonicInstant) {
        guard coordinates, var coordination else { return }
        let step = coordination.claimed(claimed, lease: configuration.coordinationLease, now: now)
        self.coordination = coordination
        carryOut(step, updatingVersions: false, now: now)
    }

    private mutating func coordinationFailed(_ reason: String, now: MonotonicInstant) {
        guard coordinates, var coordination else { return }
        actions += coordination.failed(
            reason, idle: fleet.workerCount == 0, lease: configuration.coordinationLease, now: now)
        self.coordination = coordination
    }

    /// Applies what coordination decided; a round's results do not ask the
    /// workers to store the remote's versions again, a server list does.
    private mutating func carryOut(_ step: CoordinationMachine.Step, updatingVersions: Bool, now: MonotonicInstant) {
        actions += step.actions
        guard let wanted = step.apply, let coordination else { return }
        actions += fleet.apply(
            wanted, now: now, updatingVersions: updatingVersions, removal: coordination.removalReason(srvid:))
    }

    // MARK: - Workers

    private mutating func workerInputDropped(pid: Int32, message: String, _ drop: WorkerInputDrop) {
        let name = fleet.name(ofProcess: pid)
        switch drop {
        case .processGone: log(.debug, "not sending \(message) to process \(pid): it is gone")
        case .inputClosed: log(.debug, "not sending \(message): the worker's stdin is closed", worker: name)
        case .overflow: log(.warning, "dropped \(message): the worker is not reading its stdin", worker: name)
        }
    }

    /// While the collector stops, the launcher's end is expected (systemd
    /// signals the whole control group) and is no news.
    private mutating func launcherExited(pid: Int32, _ termination: WorkerTermination) {
        switch phase {
        case .shuttingDown, .finished:
            log(.debug, "the worker launcher (pid \(pid)) ended (\(termination))")
        case .notStarted, .starting, .running, .reloading:
            log(
                .warning,
                "the worker launcher (pid \(pid)) ended (\(termination)); running workers go on, "
                    + "new ones are started with posix_spawn until it is restarted; if something killed it, "
                    + "see the kernel log (dmesg) for the OOM killer")
        }
    }

    // MARK: - Time

    /// Handles what is due, and only that.
    private mutating func tick(now: MonotonicInstant) {
        switch phase {
        case .running, .reloading:
            actions += repository.tick(now: now, dsn: configuration.repositoryDSN)
        case .shuttingDown(let shutdown) where now >= shutdown.killAt:
            actions += fleet.killRemaining()
            exit(code: 0)
            return
        case .notStarted, .starting, .shuttingDown, .finished:
            break
        }
        if coordinates { coordination?.tick(now: now) }
        actions += fleet.tick(now: now)
    }

    // MARK: - Signals and shutdown

    private mutating func signalReceived(_ signal: SupervisorSignal, now: MonotonicInstant) {
        switch signal {
        case .hangup:
            log(.debug, "SIGHUP received")
            requestReload()
        case .terminate, .interrupt:
            log(.debug, "\(signal == .terminate ? "SIGTERM" : "SIGINT") received")
            beginShutdown(now: now)
        }
    }

    /// Sends `stop` to every worker and gives them `stopGracePeriod` in all.
    private mutating func beginShutdown(now: MonotonicInstant) {
        switch phase {
        case .notStarted, .starting:
            log(.info, "stopping")
            exit(code: 0)
        case .running, .reloading:
            let killAt = now + timings.stopGracePeriod
            phase = .shuttingDown(ShutdownPhase(killAt: killAt))
            repository.abandon()
            log(.info, "stopping all workers and exiting")
            actions += fleet.stop(killAt: killAt, now: now)
        case .shuttingDown, .finished:
            break  // already on its way out, SIGKILL deadline unchanged
        }
    }

    // MARK: - Notifications

    /// Carries out what the dispatcher decided, acting on the fleet for a
    /// request that changes something.
    private mutating func dispatched(_ dispatch: NotifyDispatcher.Dispatch, now: MonotonicInstant) {
        switch dispatch {
        case .decided(let decided):
            actions += decided
        case .carryOut(let command, let pending, let logged):
            actions += logged
            let result: NotifyCommandResult
            switch command {
            case .reload:
                // Answered first: the reload's own actions follow the answer.
                actions += dispatcher.finish(pending, with: .accepted("OK"), now: now)
                requestReload()
                return
            case .forceSnapshot(let srvid):
                let (answer, acted) = fleet.forceSnapshot(srvid: srvid, now: now)
                actions += acted
                result = answer
            case .refreshCatalogs(let srvid, let dbnames):
                let (answer, acted) = fleet.refreshCatalogs(srvid: srvid, dbnames: dbnames, now: now)
                actions += acted
                result = answer
            }
            actions += dispatcher.finish(pending, with: result, now: now)
        }
    }

    // MARK: - After every event

    /// Starts what became possible: a wanted server list read once the
    /// repository is connected, a wanted coordination round likewise, and
    /// the exit once the last worker of a shutdown is gone.
    private mutating func followUp(now: MonotonicInstant) {
        switch phase {
        case .starting(var starting) where starting.serverList == .wanted && repository.isConnected:
            starting.serverList = .inFlight
            phase = .starting(starting)
            actions.append(.readServerList)
        case .reloading(var reload) where reload.stage == .readingServerList(.wanted) && repository.isConnected:
            reload.stage = .readingServerList(.inFlight)
            phase = .reloading(reload)
            actions.append(.readServerList)
        case .shuttingDown where fleet.isEmpty:
            log(.info, "all workers stopped")
            exit(code: 0)
        case .notStarted, .starting, .running, .reloading, .shuttingDown, .finished:
            break
        }
        if coordinates, var coordination {
            let fleet = fleet
            let now = now
            actions += coordination.startRoundIfDue(
                connected: repository.isConnected, lease: configuration.coordinationLease
            ) {
                var statuses: [Int: String] = [:]
                for srvid in fleet.workerSrvids { statuses[srvid] = fleet.status(of: srvid, now: now) }
                return statuses
            }
            self.coordination = coordination
        }
    }

    private mutating func exit(code: Int32) {
        actions.append(.exit(code: code))
        phase = .finished
    }

    private mutating func log(_ level: Logger.Level, _ message: String, worker: String? = nil) {
        actions.append(.log(level, message, worker: worker))
    }
}
