import Logging

/// The supervisor's own connection to the repository (LISTEN, server list,
/// answers), as a machine: connecting, connected, or down and waiting for
/// the next attempt with a delay that doubles. Workers have their own
/// connections and keep collecting while this one is down.
///
/// The loss and the recovery are each logged once, not on every failed
/// attempt. A report that does not match the state (a failed attempt while
/// none is in progress, a loss while not connected) is a duplicate and
/// changes nothing: it must not double the delay.
struct RepositoryLink: Sendable {
    enum State: Equatable, Sendable {
        case disconnected
        /// `connectRepository` was issued.
        case connecting
        case connected
        /// Down; the next attempt is at `at`.
        case waitingToReconnect(at: MonotonicInstant)
    }

    private(set) var state: State = .disconnected
    private var reconnectBackoff: ExponentialBackoff
    /// When the current outage began; nil while connected.
    private var outageStartedAt: MonotonicInstant?

    init(timings: SupervisorTimings) {
        reconnectBackoff = ExponentialBackoff(
            initialDelay: timings.repositoryReconnectInitialDelay,
            maximumDelay: timings.repositoryReconnectMaximumDelay)
    }

    var isConnected: Bool { state == .connected }

    /// When the next attempt is due, while waiting for it.
    var reconnectAt: MonotonicInstant? {
        if case .waitingToReconnect(let at) = state { at } else { nil }
    }

    /// Connects to `dsn` now (at startup, or to a new repository after a
    /// reload), whatever the state, with the delays starting over.
    mutating func connect(to dsn: String) -> SupervisorAction {
        state = .connecting
        reconnectBackoff.reset()
        return .connectRepository(dsn: dsn)
    }

    /// The `connectRepository` action succeeded.
    mutating func connected(now: MonotonicInstant) -> [SupervisorAction] {
        guard state == .connecting else { return [] }
        state = .connected
        reconnectBackoff.reset()
        guard let since = outageStartedAt else { return [] }
        outageStartedAt = nil
        return [
            .log(.info, "connection to the repository is back after \((now - since).roundedSecondsText)", worker: nil)
        ]
    }

    /// An attempt failed (`wasConnected` false) or the connection broke
    /// (true). Returns nil when the report was a duplicate, else what to
    /// log; the next attempt is then at `reconnectAt`.
    mutating func failed(_ reason: String, wasConnected: Bool, now: MonotonicInstant) -> [SupervisorAction]? {
        guard state == (wasConnected ? .connected : .connecting) else { return nil }
        let delay = reconnectBackoff.nextDelay()
        state = .waitingToReconnect(at: now + delay)
        guard outageStartedAt == nil else {
            return [
                .log(
                    .debug, "cannot connect to the repository: \(reason); next attempt in \(delay.roundedSecondsText)",
                    worker: nil)
            ]
        }
        outageStartedAt = now
        return [
            .log(
                .warning,
                "\(wasConnected ? "lost the connection to" : "cannot connect to") the repository: "
                    + "\(reason); workers keep collecting, reconnecting in \(delay.roundedSecondsText)", worker: nil)
        ]
    }

    /// Time passed: the next attempt, when it is due.
    mutating func tick(now: MonotonicInstant, dsn: String) -> [SupervisorAction] {
        guard case .waitingToReconnect(let at) = state, now >= at else { return [] }
        state = .connecting
        return [.connectRepository(dsn: dsn)]
    }

    /// The collector is stopping: no more attempts, and a report about the
    /// connection only marks it down.
    mutating func abandon() {
        if state != .connecting && state != .connected { state = .disconnected }
    }

    /// The connection failed where nothing is retried (stopping).
    mutating func markDown() { state = .disconnected }
}
