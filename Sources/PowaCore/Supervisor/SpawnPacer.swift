/// Bounds how many worker processes the supervisor starts per second
/// (a token bucket): starting 1,000 processes at once is a storm of forks,
/// libpq connections and first snapshots that starves the processes
/// already running, the supervisor included.
public struct SpawnPacer: Equatable, Sendable {
    /// Spawns allowed back to back after a quiet period.
    public let burst: Int
    /// Time for one more spawn to become available.
    public let interval: Duration
    private var tokens: Int
    /// When the last token was counted; tokens accrue from here.
    private var refilledAt: MonotonicInstant?

    public init(burst: Int, perSecond: Int) {
        precondition(burst >= 1 && perSecond >= 1)
        self.burst = burst
        interval = .nanoseconds(1_000_000_000 / Int64(perSecond))
        tokens = burst
    }

    private mutating func refill(now: MonotonicInstant) {
        guard let last = refilledAt else {
            refilledAt = now
            return
        }
        guard now > last else { return }
        let earned = Int((now - last).wholeNanoseconds / interval.wholeNanoseconds)
        if earned > 0 {
            tokens = min(burst, tokens + earned)
            refilledAt = tokens == burst ? now : last + interval * earned
        }
    }

    /// Takes one spawn if one is available now.
    public mutating func take(now: MonotonicInstant) -> Bool {
        refill(now: now)
        guard tokens > 0 else { return false }
        tokens -= 1
        return true
    }

    /// When `take` can succeed next (now when a token is left).
    public mutating func nextAvailable(now: MonotonicInstant) -> MonotonicInstant {
        refill(now: now)
        if tokens > 0 { return now }
        return (refilledAt ?? now) + interval
    }
}
