/// Delays that double after each consecutive failure, up to a maximum.
///
/// Used for worker restarts and repository reconnections: retrying at once
/// would turn a persistent failure into a busy loop, while a fixed long delay
/// would make a one-off failure expensive.
public struct ExponentialBackoff: Equatable, Sendable {
    public let initialDelay: Duration
    public let maximumDelay: Duration
    /// Failures since the last `reset()`.
    public private(set) var consecutiveFailures = 0

    public init(initialDelay: Duration, maximumDelay: Duration) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// The delay before the next attempt, counting one more failure:
    /// `initialDelay`, twice that, four times… capped at `maximumDelay`.
    public mutating func nextDelay() -> Duration {
        var delay = initialDelay
        var doublings = 0
        while doublings < consecutiveFailures && delay < maximumDelay {
            delay *= 2
            doublings += 1
        }
        consecutiveFailures += 1
        return min(delay, maximumDelay)
    }

    /// Forget past failures: the next delay is `initialDelay` again.
    public mutating func reset() { consecutiveFailures = 0 }
}
