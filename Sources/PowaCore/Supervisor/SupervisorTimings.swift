/// Every delay the supervisor applies, in seconds, with the reason for each
/// number. They are not configuration keys: they are safety margins whose
/// right values follow from the worker's behavior, not from preferences.
public struct SupervisorTimings: Equatable, Sendable {
    /// First delay before restarting a worker that died. Short, so that a
    /// one-off crash costs about a second of collection.
    public var restartInitialDelay: Double = 1
    /// Restart delays double up to this, so that a worker that crashes at
    /// once (bad build, missing library) costs at most one spawn a minute.
    public var restartMaximumDelay: Double = 60
    /// A worker that ran this long before dying is considered to have been
    /// healthy: its next restart starts again from `restartInitialDelay`.
    public var healthyUptime: Double = 60
    /// A worker that sends nothing (heartbeats included, one every
    /// `WorkerMessage.heartbeatInterval` = 3 s) for this long is hung. Five
    /// missed heartbeats rule out scheduling hiccups on a loaded machine.
    public var watchdogSilenceLimit: Double = 15
    /// After SIGTERM, a hung worker gets this long to exit before SIGKILL:
    /// enough to cancel a statement and roll back, not enough to matter.
    public var watchdogKillGrace: Double = 5
    /// After `stop` (server removed, or collector shutting down), a worker
    /// gets this long to roll back and exit before SIGKILL.
    public var stopGracePeriod: Double = 10
    /// First delay before reconnecting to the repository after losing it.
    public var repositoryReconnectInitialDelay: Double = 1
    /// Reconnection delays double up to this: the repository is needed to
    /// answer powa-web, so it is retried more eagerly than a worker restart.
    public var repositoryReconnectMaximumDelay: Double = 30
    /// `FORCE_SNAPSHOT` is refused this soon after a snapshot started (the
    /// reference's rule).
    public var forcedSnapshotMinimumInterval: Double = 10
    /// A forced snapshot the worker has not begun after this long is
    /// considered lost (the worker may have had no connection to take it),
    /// so that it stops blocking new `FORCE_SNAPSHOT` requests.
    public var forcedSnapshotQueueTimeout: Double = 30

    public init() {}

    public static let standard = SupervisorTimings()
}
