/// How the worker's control thread ends a snapshot that runs past its time
/// budget, in three stages a `grace` apart: cancel the statements in
/// flight, then shut the sockets down under a server that ignores the
/// cancel, then stop the heartbeats so that the supervisor restarts a
/// collector thread that even that did not bring back.
///
/// The budget itself is the remote's `statement_timeout`, which costs only
/// the slow datasource; this watchdog is the backstop for a server too
/// frozen to apply it. Each stage is taken once per snapshot, in order.
public struct SnapshotBudgetWatchdog: Equatable, Sendable {
    public enum Stage: Equatable, Sendable {
        /// No snapshot, or one within its budget plus one grace.
        case watching
        /// The statements in flight were cancelled.
        case cancelled
        /// The connections' sockets were shut down.
        case socketsShutDown
        /// The collector thread did not come back: heartbeats stop.
        case collectorHung
    }

    public enum Action: Equatable, Sendable {
        case cancelStatements
        case shutDownSockets
        case stopHeartbeats
    }

    /// Seconds past the budget before the first stage, and between stages.
    public static let grace = 5.0

    public private(set) var stage: Stage = .watching

    public init() {}

    /// Heartbeats go out unless the collector thread is declared hung.
    public var sendsHeartbeats: Bool { stage != .collectorHung }

    /// Advances on one look at the running snapshot.
    ///
    /// - Parameters:
    ///   - elapsed: seconds since the running snapshot started; nil when no
    ///     snapshot runs, which resets the watchdog for the next one.
    ///   - budget: the snapshot's budget in seconds (`SnapshotBudget`).
    /// - Returns: what to do now, at most one stage per look.
    public mutating func observe(elapsed: Double?, budget: Double) -> Action? {
        guard let elapsed else {
            stage = .watching
            return nil
        }
        switch stage {
        case .watching where elapsed > budget + Self.grace:
            stage = .cancelled
            return .cancelStatements
        case .cancelled where elapsed > budget + 2 * Self.grace:
            stage = .socketsShutDown
            return .shutDownSockets
        case .socketsShutDown where elapsed > budget + 3 * Self.grace:
            stage = .collectorHung
            return .stopHeartbeats
        default:
            return nil
        }
    }
}
