/// What the supervisor knows about the worker of one server, across the
/// successive processes that serve it.
struct SupervisedWorker: Sendable {
    /// The configuration the current (or next) process runs with.
    var configuration: WorkerConfiguration
    var process: ProcessState
    var restartBackoff: ExponentialBackoff
    /// When the supervisor last saw a snapshot of this server begin, on the
    /// supervisor's clock, for the `FORCE_SNAPSHOT` minimum interval. Kept
    /// across restarts: a new process does not make a snapshot older.
    var lastSnapshotSeenStartingAt: Double?
    /// Restarts after an exit, a kill or a hang, for the metrics.
    var restarts = 0
    /// Counters of the earlier processes of this server, which the current
    /// process's status counts from zero again.
    var earlierProcesses = WorkerStatus(status: "")

    enum ProcessState: Sendable {
        /// In the spawn queue, waiting for the spawn pacer.
        case waitingToSpawn
        /// `spawnWorker` was issued; the pid is not known yet.
        case spawning
        case running(RunningWorkerProcess)
        /// The watchdog sent SIGTERM; `killAt` is when SIGKILL follows, nil
        /// once it was sent. A restart follows the exit.
        case terminatingUnresponsive(pid: Int32, spawnedAt: Double, silentFor: Double, killAt: Double?)
        /// No process; a new one is spawned at `at`.
        case waitingToRestart(at: Double, reason: WorkerRestartReason)
    }

    var name: String { configuration.name }

    /// The last status of the running process, if any.
    var currentStatus: WorkerStatus? {
        if case .running(let running) = process { running.status } else { nil }
    }

    /// Adds the counters of a process that ended to `earlierProcesses`.
    mutating func keepCounters(of status: WorkerStatus?) {
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

    /// This server's line of the metrics endpoint.
    func metrics(srvid: Int, now: Double, slot: SnapshotSlots.Standing) -> ServerMetrics {
        let current = currentStatus
        let earlier = earlierProcesses
        return ServerMetrics(
            // The lateness has a gauge of its own: in the status label it
            // would make a new `powa_collector_workers` series per second.
            srvid: srvid, name: name, status: statusText(now: now, slot: slot, sayingLateness: false),
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

    /// The pid of the process, while one exists.
    var pid: Int32? {
        switch process {
        case .running(let running): running.pid
        case .terminatingUnresponsive(let pid, _, _, _): pid
        case .waitingToSpawn, .spawning, .waitingToRestart: nil
        }
    }

    /// The status string `WORKERS_STATUS` reports.
    ///
    /// Between spawn and the worker's first status the answer is
    /// `starting`: the process is up but is not collecting yet (it is
    /// connecting), and powa-web showing that as "not healthy" for a moment
    /// is the truth; answering `running` would hide a worker that never
    /// manages to start. It lasts a few milliseconds when all is well, as the
    /// worker reports its status as soon as it has read its `start` message.
    func statusText(now: Double, slot: SnapshotSlots.Standing = .none, sayingLateness: Bool = true) -> String {
        switch process {
        case .waitingToSpawn, .spawning:
            return Self.starting
        case .running(let running):
            if case .waiting(let since) = slot, now - since.seconds >= 1 {
                // Overload shows as lateness, spread over every server.
                return "waiting \(Int(now - since.seconds)) s for a snapshot slot"
            }
            guard let status = running.status else { return Self.starting }
            if sayingLateness, status.status == WorkerStatusText.running, let late = status.lastSnapshotLateness,
               late >= Self.reportedLateness(frequency: configuration.frequency) {
                return "running, last snapshot \(Int(late.rounded())) s late"
            }
            return status.status
        case .terminatingUnresponsive(_, _, let silentFor, _):
            return "restarting (\(WorkerRestartReason.unresponsive(silentFor: silentFor)))"
        case .waitingToRestart(let at, let reason):
            let seconds = max(1, Int((at - now).rounded(.up)))
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
}
