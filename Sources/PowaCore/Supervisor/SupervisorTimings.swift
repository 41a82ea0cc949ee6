/// Every delay the supervisor applies, with the reason for each
/// number. They are not configuration keys: they are safety margins whose
/// right values follow from the worker's behavior, not from preferences.
public struct SupervisorTimings: Equatable, Sendable {
    /// First delay before restarting a worker that died. Short, so that a
    /// one-off crash costs about a second of collection.
    public var restartInitialDelay: Duration = .seconds(1)
    /// Restart delays double up to this, so that a worker that crashes at
    /// once (bad build, missing library) costs at most one spawn a minute.
    public var restartMaximumDelay: Duration = .seconds(60)
    /// A worker that ran this long before dying is considered to have been
    /// healthy: its next restart starts again from `restartInitialDelay`.
    public var healthyUptime: Duration = .seconds(60)
    /// A worker that sends nothing for this long past the heartbeat it
    /// promised is suspected: during a snapshot it beats every
    /// `WorkerMessage.heartbeatInterval` (3 s), so 15 s of silence is five
    /// missed beats; an idle worker says something at least every 60 s and
    /// is suspected after 60 + 15 s. A suspect's pipe is read and its `/proc` state checked
    /// before any verdict (see `slowWorkerExtension`).
    public var watchdogSilenceLimit: Duration = .seconds(15)
    /// A new process has this long, from its real start, to send its first
    /// line: hundreds of processes starting together share the CPU.
    public var workerStartGrace: Duration = .seconds(30)
    /// A suspect that is not stopped gets this much more time, once to
    /// take a second CPU sample and then while it is seen using CPU (slow,
    /// not dead), at most `maximumSlowExtensions` times. A stopped process
    /// (SIGSTOP) is ended at the first check.
    public var slowWorkerExtension: Duration = .seconds(10)
    public var maximumSlowExtensions: Int = 4
    /// Worker processes started back to back, then per second: starting
    /// hundreds at once starves the machine (the first version killed
    /// workers that were merely slow to start).
    public var spawnBurst: Int = 20
    public var spawnsPerSecond: Int = 20
    /// After SIGTERM, a hung worker gets this long to exit before SIGKILL:
    /// enough to cancel a statement and roll back, not enough to matter.
    public var watchdogKillGrace: Duration = .seconds(5)
    /// After `stop` (server removed, or collector shutting down), a worker
    /// gets this long to roll back and exit before SIGKILL.
    public var stopGracePeriod: Duration = .seconds(10)
    /// First delay before reconnecting to the repository after losing it.
    public var repositoryReconnectInitialDelay: Duration = .seconds(1)
    /// Reconnection delays double up to this: the repository is needed to
    /// answer powa-web, so it is retried more eagerly than a worker restart.
    public var repositoryReconnectMaximumDelay: Duration = .seconds(30)
    /// A forced snapshot the worker has not begun after this long is
    /// considered lost (the worker may have had no connection to take it),
    /// so that it stops blocking new `FORCE_SNAPSHOT` requests. (The rule
    /// itself, with its own interval, is `ForcedSnapshotRule`.)
    public var forcedSnapshotQueueTimeout: Duration = .seconds(30)

    public init() {}

    public static let standard = SupervisorTimings()
}
