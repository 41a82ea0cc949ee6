/// A worker process that is up and has been sent its `start` message.
struct RunningWorkerProcess: Sendable {
    var pid: Int32
    var spawnedAt: Double
    /// Last valid message (heartbeat or status), or the spawn: the watchdog
    /// measures silence from here.
    var lastHeardAt: Double
    /// Last status the worker reported; nil until its first one.
    var status: WorkerStatus?
    /// When a `force_snapshot` was sent that the worker has not begun yet.
    var forcedSnapshotRequestedAt: Double?
    /// The watchdog's suspicion, reset by any valid message.
    var suspicion = Suspicion()

    /// What the watchdog found out about a silent worker so far.
    struct Suspicion: Equatable, Sendable {
        /// A `checkWorker` is in flight.
        var checking = false
        /// The last `/proc` sample taken, to compare CPU use with.
        var sample: ProcessSample?
        var extensions = 0
        /// Extended deadline, replacing the promised one.
        var extendedUntil: Double?
    }

    /// When the worker is overdue: the heartbeat it promised (a short one
    /// during a snapshot, a long one when idle, the start grace before its
    /// first line) plus the silence limit, or the extension granted.
    func livenessDeadline(_ timings: SupervisorTimings) -> Double {
        if let extended = suspicion.extendedUntil { return extended }
        guard let status else { return lastHeardAt + timings.workerStartGrace }
        return lastHeardAt + WorkerMessage.heartbeatInterval(snapshotRunning: status.snapshotRunning)
            + timings.watchdogSilenceLimit
    }

    init(pid: Int32, spawnedAt: Double) {
        self.pid = pid
        self.spawnedAt = spawnedAt
        self.lastHeardAt = spawnedAt
    }

    /// Records a new status; returns whether it shows a snapshot that began
    /// since the previous status (it is running now and was not, or its
    /// start time changed).
    ///
    /// The start is judged from the change rather than read from
    /// `lastSnapshotStart` because that field is on the worker's wall clock
    /// while the supervisor decides on its own monotonic clock. The first
    /// status of a process only counts when it shows a snapshot running:
    /// a start time it carries from before is of unknown age here.
    mutating func record(_ newStatus: WorkerStatus) -> Bool {
        let previous = status
        status = newStatus
        let becameRunning = newStatus.snapshotRunning && previous?.snapshotRunning != true
        let startChanged = previous != nil && newStatus.lastSnapshotStart != nil
            && newStatus.lastSnapshotStart != previous?.lastSnapshotStart
        return becameRunning || startChanged
    }
}
