/// Decides which notify-protocol messages to send, from the service state
/// the supervisor's machine reports and the time: a transition gives
/// READY / RELOADING / STOPPING, a changed summary gives STATUS, and the
/// watchdog keep-alive is due every `ServiceWatchdog.pingInterval`.
///
/// The keep-alive is only ever sent from the event loop's own turn, after
/// it has handled what was waiting: a supervisor that is stopped, stuck in
/// a call or spinning elsewhere sends none, and systemd acts on it.
public struct ServiceNotifications: Sendable {
    public let watchdog: ServiceWatchdog?
    private var lastState: ServiceState = .starting
    private var lastStatus: String?
    private var lastPingAt: Double?

    public init(watchdog: ServiceWatchdog?) {
        self.watchdog = watchdog
    }

    /// Messages for a change of state; `monotonicMicroseconds` is now on
    /// CLOCK_MONOTONIC (for RELOADING). Nothing when the state is the same.
    public mutating func stateChanged(
        to state: ServiceState, monotonicMicroseconds: UInt64
    ) -> [ServiceManagerMessage] {
        guard state != lastState else { return [] }
        let previous = lastState
        lastState = state
        switch state {
        case .starting:
            return []
        case .ready:
            return [.ready]
        case .reloading:
            return [.reloading(monotonicMicroseconds: monotonicMicroseconds)]
        case .stopping:
            return previous == .stopping ? [] : [.stopping]
        }
    }

    /// The last `STATUS=` was refused (the manager's socket buffer was
    /// full): the same line is sent again next time rather than lost until
    /// the summary changes. With several instances the line at READY
    /// (before the first claim) is not the one that stays.
    public mutating func statusNotDelivered() {
        lastStatus = nil
    }

    /// `STATUS=` when the summary changed.
    public mutating func summary(_ text: String) -> [ServiceManagerMessage] {
        guard text != lastStatus else { return [] }
        lastStatus = text
        return [.status(text)]
    }

    /// When the next keep-alive is due, nil without a watchdog.
    public var nextPingAt: Double? {
        guard let watchdog else { return nil }
        guard let lastPingAt else { return -Double.infinity }
        return lastPingAt + watchdog.pingInterval
    }

    /// The keep-alive when it is due at `now`.
    public mutating func loopTurn(now: Double) -> [ServiceManagerMessage] {
        guard let due = nextPingAt, now >= due else { return [] }
        lastPingAt = now
        return [.watchdog]
    }
}
