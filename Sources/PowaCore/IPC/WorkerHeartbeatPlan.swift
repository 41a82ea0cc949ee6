/// When the worker's control loop sends a heartbeat, and how long it may
/// sleep: plain arithmetic on the loop's clock readings, so that the rules
/// are tested without a process.
public enum WorkerHeartbeatPlan {
    /// The longest sleep during a snapshot: its budget is watched every
    /// second.
    public static let budgetCheckInterval = 1.0

    /// Whether a heartbeat is due: the supervisor's promise for the current
    /// state has run out since the last line of any kind, and heartbeats
    /// are not withheld (a hung collector thread's silence lets the
    /// supervisor end the worker).
    public static func heartbeatDue(
        now: Double, lastLineSentAt: Double, snapshotRunning: Bool, sendsHeartbeats: Bool
    ) -> Bool {
        sendsHeartbeats && now >= lastLineSentAt + WorkerMessage.heartbeatInterval(snapshotRunning: snapshotRunning)
    }

    /// Seconds the loop may sleep: until the next heartbeat, at most
    /// `budgetCheckInterval` during a snapshot. With heartbeats withheld no
    /// heartbeat is ever due, and the wait is the budget check's alone (the
    /// heartbeat's moment stays in the past: waiting for it would spin).
    public static func wait(
        now: Double, lastLineSentAt: Double, snapshotRunning: Bool, sendsHeartbeats: Bool
    ) -> Double {
        guard sendsHeartbeats else { return budgetCheckInterval }
        let untilHeartbeat =
            lastLineSentAt + WorkerMessage.heartbeatInterval(snapshotRunning: snapshotRunning) - now
        return snapshotRunning ? min(untilHeartbeat, budgetCheckInterval) : untilHeartbeat
    }
}
