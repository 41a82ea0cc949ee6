/// The supervisor's own connection to the repository (LISTEN, server list,
/// answers). Workers have their own connections and keep collecting while
/// this one is down.
struct RepositoryLink: Sendable {
    enum State: Equatable, Sendable {
        case disconnected
        /// `connectRepository` was issued.
        case connecting
        case connected
        /// Down; the next attempt is at `at`.
        case waitingToReconnect(at: Double)
    }

    var state: State = .disconnected
    var reconnectBackoff: ExponentialBackoff
    /// When the current outage began; nil while connected. The loss and the
    /// recovery are each logged once, not on every failed attempt.
    var outageStartedAt: Double?

    init(timings: SupervisorTimings) {
        reconnectBackoff = ExponentialBackoff(
            initialDelay: timings.repositoryReconnectInitialDelay,
            maximumDelay: timings.repositoryReconnectMaximumDelay)
    }
}
