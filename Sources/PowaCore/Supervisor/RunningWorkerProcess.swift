/// A worker process that is up and has been sent its `start` message.
struct RunningWorkerProcess: Sendable {
    var pid: Int32
    var spawnedAt: MonotonicInstant
    /// Last valid message (heartbeat or status), or the spawn: the watchdog
    /// measures silence from here.
    var lastHeardAt: MonotonicInstant
    /// Last status the worker reported; nil until its first one.
    var status: WorkerStatus?
    /// When a `force_snapshot` was sent that the worker has not begun yet.
    var forcedSnapshotRequestedAt: MonotonicInstant?
    /// Its place with the repository's snapshot slots, mirrored here by the
    /// fleet (which owns the queue) so that its status needs no lookup.
    var slot: SnapshotSlots.Standing = .none
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
        var extendedUntil: MonotonicInstant?
    }

    /// What the process is doing, as far as the supervisor knows.
    enum Activity: Equatable, Sendable {
        /// Up, but no status yet: still connecting.
        case starting
        case idle
        /// Asked for a snapshot slot and waits in line.
        case waitingForSlot(since: MonotonicInstant)
        /// Holds a slot, or reported a snapshot running.
        case snapshotting
    }

    var activity: Activity {
        switch slot {
        case .waiting(let since): return .waitingForSlot(since: since)
        case .holding: return .snapshotting
        case .none: break
        }
        guard let status else { return .starting }
        return status.snapshotRunning ? .snapshotting : .idle
    }

    /// When the worker is overdue: the heartbeat it promised (a short one
    /// during a snapshot, a long one when idle, the start grace before its
    /// first line) plus the silence limit, or the extension granted.
    func livenessDeadline(_ timings: SupervisorTimings) -> MonotonicInstant {
        if let extended = suspicion.extendedUntil { return extended }
        guard let status else { return lastHeardAt + timings.workerStartGrace }
        return lastHeardAt + .fromSeconds(WorkerMessage.heartbeatInterval(snapshotRunning: status.snapshotRunning))
            + timings.watchdogSilenceLimit
    }

    init(pid: Int32, spawnedAt: MonotonicInstant) {
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
        let startChanged =
            previous != nil && newStatus.lastSnapshotStart != nil
            && newStatus.lastSnapshotStart != previous?.lastSnapshotStart
        return becameRunning || startChanged
    }
}
