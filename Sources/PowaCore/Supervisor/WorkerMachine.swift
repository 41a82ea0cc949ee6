import Logging

/// The life of the worker of one server, across the successive processes
/// that serve it: spawn, run, be judged by the watchdog, die, wait to be
/// restarted. One method per input; each returns what the fleet must do.
///
/// The machine knows nothing of the other workers. What is shared (the
/// snapshot slots, the spawn pacer, the timers, the pid index) is the
/// fleet's: the fleet mirrors the worker's slot standing into it and arms
/// its one timer at `deadline` after every call.
///
/// An input that the current state cannot take is the fleet's mistake,
/// not the world's (the fleet routes late or stray reports away before
/// calling), so it stops the program with a message.
struct WorkerMachine: Sendable {
    enum State: Sendable {
        /// In the spawn queue, waiting for the spawn pacer.
        case waitingToSpawn
        /// `spawnWorker` was issued; the pid is not known yet.
        case spawning
        /// Up and sent its `start`; what it does is `RunningWorkerProcess.activity`.
        case running(RunningWorkerProcess)
        /// The watchdog sent SIGTERM; `killAt` is when SIGKILL follows, nil
        /// once it was sent. A restart follows the exit.
        case terminatingUnresponsive(
            pid: Int32, spawnedAt: MonotonicInstant, silentFor: Duration, killAt: MonotonicInstant?)
        /// No process; a new one is spawned at `at`.
        case waitingToRestart(at: MonotonicInstant, reason: WorkerRestartReason)
    }

    /// What the fleet does after a call, besides carrying out `actions`.
    struct Step: Sendable {
        var actions: [SupervisorAction] = []
        /// The worker gave up its snapshot slot or place in line.
        var releasesSlot = false
        /// The worker is `waitingToSpawn` again and joins the spawn queue.
        var queuesForSpawn = false
    }

    /// What becomes of the worker's process when its server goes away or
    /// the collector stops.
    struct Retirement: Equatable, Sendable {
        var pid: Int32
        /// `stop` goes to the process (it was not already sent SIGTERM).
        var sendsStop: Bool
        /// SIGKILL already scheduled by the watchdog, if any.
        var pendingKillAt: MonotonicInstant?
    }

    let srvid: Int
    /// The configuration the current (or next) process runs with.
    private(set) var configuration: WorkerConfiguration
    private(set) var state: State = .waitingToSpawn
    private var restartBackoff: ExponentialBackoff
    /// When the supervisor last saw a snapshot of this server begin, on the
    /// supervisor's clock, for the `FORCE_SNAPSHOT` minimum interval. Kept
    /// across restarts: a new process does not make a snapshot older.
    private(set) var lastSnapshotSeenStartingAt: MonotonicInstant?
    /// Restarts after an exit, a kill or a hang, for the metrics.
    private(set) var restarts = 0
    /// Counters of the earlier processes of this server, which the current
    /// process's status counts from zero again.
    private var earlierProcesses = WorkerStatus(status: "")
    private let timings: SupervisorTimings

    init(configuration: WorkerConfiguration, timings: SupervisorTimings) {
        srvid = configuration.srvid
        self.configuration = configuration
        self.timings = timings
        restartBackoff = ExponentialBackoff(
            initialDelay: timings.restartInitialDelay, maximumDelay: timings.restartMaximumDelay)
    }

    var name: String { configuration.name }

    // MARK: - What the fleet reads

    /// The pid of the process, while one exists.
    var pid: Int32? {
        switch state {
        case .running(let running): running.pid
        case .terminatingUnresponsive(let pid, _, _, _): pid
        case .waitingToSpawn, .spawning, .waitingToRestart: nil
        }
    }

    /// The pid of the process while it is running (not being ended).
    var runningPid: Int32? {
        if case .running(let running) = state { running.pid } else { nil }
    }

    var isWaitingToSpawn: Bool {
        if case .waitingToSpawn = state { true } else { false }
    }

    var isSpawning: Bool {
        if case .spawning = state { true } else { false }
    }

    /// When the worker's timer must fire: its liveness deadline while it
    /// runs, its SIGKILL while it is being ended, its restart while it
    /// waits; nil when nothing in its state waits on time.
    var deadline: MonotonicInstant? {
        switch state {
        case .running(let running): running.livenessDeadline(timings)
        case .terminatingUnresponsive(_, _, _, let killAt): killAt
        case .waitingToRestart(let at, _): at
        case .waitingToSpawn, .spawning: nil
        }
    }

    /// The last status of the running process, if any.
    var currentStatus: WorkerStatus? {
        if case .running(let running) = state { running.status } else { nil }
    }

    /// The status string `WORKERS_STATUS` reports.
    ///
    /// Between spawn and the worker's first status the answer is
    /// `starting`: the process is up but is not collecting yet (it is
    /// connecting), and powa-web showing that as "not healthy" for a moment
    /// is the truth; answering `running` would hide a worker that never
    /// manages to start. It lasts a few milliseconds when all is well, as the
    /// worker reports its status as soon as it has read its `start` message.
    func statusText(now: MonotonicInstant, sayingLateness: Bool = true) -> String {
        switch state {
        case .waitingToSpawn, .spawning:
            return Self.starting
        case .running(let running):
            if case .waitingForSlot(let since) = running.activity, now - since >= .seconds(1) {
                // Overload shows as lateness, spread over every server.
                return "waiting \(Int((now - since).inSeconds)) s for a snapshot slot"
            }
            guard let status = running.status else { return Self.starting }
            if sayingLateness, status.status == WorkerStatusText.running, let late = status.lastSnapshotLateness,
                late >= Self.reportedLateness(frequency: configuration.frequency)
            {
                return "running, last snapshot \(Int(late.rounded())) s late"
            }
            return status.status
        case .terminatingUnresponsive(_, _, let silentFor, _):
            return "restarting (\(WorkerRestartReason.unresponsive(silentFor: silentFor)))"
        case .waitingToRestart(let at, let reason):
            let seconds = max(1, Int((at - now).inSeconds.rounded(.up)))
            return "restarting in \(seconds) s (\(reason))"
        }
    }

    static let starting = "starting"

    /// Lateness worth showing in powa-web: a tenth of a period, at least
    /// 2 s. Below that a busy machine's jitter would turn healthy servers
    /// into alerts; the metrics carry every figure.
    static func reportedLateness(frequency: Int) -> Double {
        max(2, Double(frequency) / 10)
    }

    /// This server's line of the metrics endpoint.
    func metrics(now: MonotonicInstant) -> ServerMetrics {
        let current = currentStatus
        let earlier = earlierProcesses
        return ServerMetrics(
            // The lateness has a gauge of its own: in the status label it
            // would make a new `powa_collector_workers` series per second.
            srvid: srvid, name: name, status: statusText(now: now, sayingLateness: false),
            up: current?.status == WorkerStatusText.running, restarts: restarts,
            snapshotsTaken: earlier.snapshotsTaken + (current?.snapshotsTaken ?? 0),
            snapshotsFailed: earlier.snapshotsFailed + (current?.snapshotsFailed ?? 0),
            datasourceErrors: earlier.datasourceErrors + (current?.datasourceErrors ?? 0),
            lastSnapshotStart: current?.lastSnapshotStart ?? earlier.lastSnapshotStart,
            lastSnapshotDuration: current?.lastSnapshotDuration ?? earlier.lastSnapshotDuration,
            rowsCopied: earlier.rowsCopied + (current?.rowsCopied ?? 0),
            bytesCopied: earlier.bytesCopied + (current?.bytesCopied ?? 0),
            lastSnapshotLateness: current?.lastSnapshotLateness ?? earlier.lastSnapshotLateness)
    }

    // MARK: - Spawning

    /// The pacer let this worker's process start.
    mutating func spawnIssued() -> SupervisorAction {
        guard case .waitingToSpawn = state else {
            preconditionFailure("spawn issued for the worker of server \(srvid), which is not waiting to spawn")
        }
        state = .spawning
        return .spawnWorker(configuration)
    }

    /// Its process exists: the start grace counts from here.
    mutating func spawned(pid: Int32, now: MonotonicInstant) -> Step {
        guard case .spawning = state else {
            preconditionFailure("worker of server \(srvid) reported spawned while not spawning")
        }
        state = .running(RunningWorkerProcess(pid: pid, spawnedAt: now))
        return Step(actions: [
            .log(.info, "worker started (pid \(pid))", worker: name),
            .sendToWorker(pid: pid, .start(configuration)),
        ])
    }

    mutating func spawnFailed(reason: String, now: MonotonicInstant) -> Step {
        guard case .spawning = state else {
            preconditionFailure("worker of server \(srvid) reported a failed spawn while not spawning")
        }
        return Step(actions: [scheduleRestart(reason: .spawnFailed(reason), uptime: .zero, now: now)])
    }

    // MARK: - A running process

    /// A valid line from the running process: a sign of life, whatever it
    /// says. Slot requests and releases are the fleet's to answer.
    mutating func heard(_ message: WorkerMessage, now: MonotonicInstant) -> Step {
        guard case .running(var running) = state else {
            preconditionFailure("a message reached the worker of server \(srvid), which has no running process")
        }
        var step = Step()
        if running.suspicion != RunningWorkerProcess.Suspicion() {
            if running.suspicion.extensions > 0 {
                step.actions.append(
                    .log(
                        .info,
                        "worker heard from again after \((now - running.lastHeardAt).roundedSecondsText)"
                            + " of silence: it was slow, not dead", worker: name))
            }
            running.suspicion = RunningWorkerProcess.Suspicion()
        }
        running.lastHeardAt = now
        if case .status(let status) = message {
            if status.status != running.status?.status {
                step.actions.append(.log(.debug, "status: \(status.status)", worker: name))
            }
            if running.record(status) {
                lastSnapshotSeenStartingAt = now
                running.forcedSnapshotRequestedAt = nil
            }
        }
        state = .running(running)
        return step
    }

    /// The fleet's slot queue placed this running worker: holding a slot
    /// or waiting in line (the mirror its status and activity read).
    mutating func slotStandingChanged(to standing: SnapshotSlots.Standing) {
        guard case .running(var running) = state else {
            preconditionFailure("slot standing changed for the worker of server \(srvid), which is not running")
        }
        running.slot = standing
        state = .running(running)
    }

    /// Its process ended (reaped). The fleet gives its slot (or place in
    /// line) to the next first; it is restarted after the backoff delay, which
    /// starts over when the process had been up long enough to call it
    /// healthy.
    mutating func exited(_ termination: WorkerTermination, now: MonotonicInstant) -> Step {
        let reason: WorkerRestartReason
        let spawnedAt: MonotonicInstant
        switch state {
        case .running(let running):
            reason = .terminated(termination)
            spawnedAt = running.spawnedAt
            keepCounters(of: running.status)
        case .terminatingUnresponsive(_, let started, let silentFor, _):
            reason = .unresponsive(silentFor: silentFor)
            spawnedAt = started
        case .waitingToSpawn, .spawning, .waitingToRestart:
            preconditionFailure("worker of server \(srvid) reported exited without a process")
        }
        return Step(actions: [scheduleRestart(reason: reason, uptime: now - spawnedAt, now: now)])
    }

    // MARK: - Time and the watchdog

    /// Its timer fired: the watchdog's turn (a running worker overdue, or a
    /// SIGTERM without effect) or its restart.
    mutating func deadlinePassed(now: MonotonicInstant) -> Step {
        switch state {
        case .running(var running):
            guard now >= running.livenessDeadline(timings), !running.suspicion.checking else { return Step() }
            // Slow is not dead: what waits in its pipe, and its /proc
            // state, come before any verdict.
            running.suspicion.checking = true
            state = .running(running)
            return Step(actions: [.checkWorker(pid: running.pid)])
        case .terminatingUnresponsive(let pid, let spawnedAt, let silence, let killAt?) where now >= killAt:
            state = .terminatingUnresponsive(pid: pid, spawnedAt: spawnedAt, silentFor: silence, killAt: nil)
            return Step(actions: [
                .log(.error, "worker did not exit after SIGTERM, killing it", worker: name),
                .signalWorker(pid: pid, .kill),
            ])
        case .waitingToRestart(let at, _) where now >= at:
            state = .waitingToSpawn
            return Step(actions: [.log(.info, "restarting worker", worker: name)], queuesForSpawn: true)
        case .waitingToSpawn, .spawning, .terminatingUnresponsive, .waitingToRestart:
            return Step()
        }
    }

    /// The verdict on a suspect, its pipe read (any line found cleared the
    /// suspicion already) and its process sampled.
    mutating func checked(_ sample: ProcessSample?, now: MonotonicInstant) -> Step {
        guard case .running(var running) = state else {
            preconditionFailure("a watchdog check reached the worker of server \(srvid), which is not running")
        }
        let wasChecking = running.suspicion.checking
        running.suspicion.checking = false
        let silence = now - running.lastHeardAt
        guard wasChecking, now >= running.livenessDeadline(timings) else {
            state = .running(running)
            return Step()
        }
        switch running.suspicion.judge(sample, now: now, timings: timings) {
        case .spare(let usingCPU):
            state = .running(running)
            guard usingCPU else { return Step() }
            return Step(actions: [
                .log(
                    .warning,
                    "worker sent nothing for \(silence.roundedSecondsText) but is using CPU: slow, not dead; "
                        + "checking again in \(timings.slowWorkerExtension.roundedSecondsText)", worker: name)
            ])
        case .end(let reason):
            state = .terminatingUnresponsive(
                pid: running.pid, spawnedAt: running.spawnedAt, silentFor: silence,
                killAt: now + timings.watchdogKillGrace)
            return Step(
                actions: [
                    .log(
                        .error, "worker sent nothing for \(silence.roundedSecondsText) and \(reason), terminating it",
                        worker: name),
                    .signalWorker(pid: running.pid, .terminate),
                ], releasesSlot: true)
        }
    }

    // MARK: - Configuration and requests

    /// A new server list: a changed configuration goes to the running
    /// process as `reload` (or to the next process); a running process is
    /// also asked to store the remote's versions again when
    /// `updatingVersions`: the operator may have upgraded an extension and
    /// reloaded to tell the collector.
    mutating func listed(_ newConfiguration: WorkerConfiguration, updatingVersions: Bool) -> [SupervisorAction] {
        var actions: [SupervisorAction] = []
        if newConfiguration != configuration {
            configuration = newConfiguration
            if let pid = runningPid {
                actions.append(.log(.info, "configuration changed, asking the worker to reload", worker: name))
                actions.append(.sendToWorker(pid: pid, .reload(newConfiguration)))
            } else {
                // No process to tell: the next one starts with it.
                actions.append(.log(.info, "configuration changed", worker: name))
            }
        }
        if updatingVersions, let pid = runningPid {
            actions.append(.sendToWorker(pid: pid, .updateVersions))
        }
        return actions
    }

    /// `FORCE_SNAPSHOT`: `ForcedSnapshotRule` applied to what the worker
    /// last said; a request the worker has not acted on within
    /// `forcedSnapshotQueueTimeout` no longer counts as queued.
    mutating func forceSnapshot(now: MonotonicInstant) -> (answer: NotifyCommandResult, actions: [SupervisorAction]) {
        guard case .running(var running) = state else { return (notRunning(now: now), []) }
        let queued = running.forcedSnapshotRequestedAt.map { now - $0 < timings.forcedSnapshotQueueTimeout } ?? false
        if let refusal = ForcedSnapshotRule.refusal(
            snapshotRunning: running.status?.snapshotRunning == true, forcedSnapshotQueued: queued,
            secondsSinceLastStart: lastSnapshotSeenStartingAt.map { (now - $0).inSeconds })
        {
            return (.refused(refusal.description), [])
        }
        running.forcedSnapshotRequestedAt = now
        state = .running(running)
        return (
            .accepted("snapshot will begin shortly"),
            [
                .log(.info, "forced snapshot requested", worker: name),
                .sendToWorker(pid: running.pid, .forceSnapshot),
            ]
        )
    }

    /// `REFRESH_CATALOGS`: passed on to a running process.
    func refreshCatalogs(_ dbnames: [String], now: MonotonicInstant) -> (
        answer: NotifyCommandResult, actions: [SupervisorAction]
    ) {
        guard let pid = runningPid else { return (notRunning(now: now), []) }
        return (
            .accepted("catalogs will be refreshed at the next snapshot"),
            [.sendToWorker(pid: pid, .refreshCatalogs(dbnames: dbnames))]
        )
    }

    private func notRunning(now: MonotonicInstant) -> NotifyCommandResult {
        .refused("the worker of server id \(srvid) is not running (\(statusText(now: now)))")
    }

    // MARK: - Leaving the fleet

    /// What becomes of the process when the worker leaves the fleet: a
    /// running one is sent `stop`, one already sent SIGTERM keeps its
    /// SIGKILL; without a process there is nothing to end (a spawn in
    /// flight is stopped when its pid arrives).
    var retirement: Retirement? {
        switch state {
        case .running(let running): Retirement(pid: running.pid, sendsStop: true, pendingKillAt: nil)
        case .terminatingUnresponsive(let pid, _, _, let killAt):
            Retirement(pid: pid, sendsStop: false, pendingKillAt: killAt)
        case .waitingToSpawn, .spawning, .waitingToRestart: nil
        }
    }

    // MARK: - Private

    private mutating func scheduleRestart(reason: WorkerRestartReason, uptime: Duration, now: MonotonicInstant)
        -> SupervisorAction
    {
        if uptime >= timings.healthyUptime { restartBackoff.reset() }
        restarts += 1
        let delay = restartBackoff.nextDelay()
        state = .waitingToRestart(at: now + delay, reason: reason)
        return .log(
            .error,
            "\(reason); restarting the worker in \(delay.roundedSecondsText)"
                + "; its last log lines say why", worker: name)
    }

    /// Adds the counters of a process that ended to `earlierProcesses`.
    private mutating func keepCounters(of status: WorkerStatus?) {
        guard let status else { return }
        earlierProcesses.snapshotsTaken += status.snapshotsTaken
        earlierProcesses.snapshotsFailed += status.snapshotsFailed
        earlierProcesses.datasourceErrors += status.datasourceErrors
        earlierProcesses.rowsCopied += status.rowsCopied
        earlierProcesses.bytesCopied += status.bytesCopied
        if let start = status.lastSnapshotStart { earlierProcesses.lastSnapshotStart = start }
        if let duration = status.lastSnapshotDuration { earlierProcesses.lastSnapshotDuration = duration }
        if let lateness = status.lastSnapshotLateness { earlierProcesses.lastSnapshotLateness = lateness }
    }
}
