/// The supervisor's clock for judging workers: it advances with the
/// monotonic clock, except across a gap during which the supervisor itself
/// did not run (stopped, starved of CPU, swapped out). Such a gap counts
/// only `tolerance`: a worker cannot be blamed for the time nobody was
/// reading its pipe.
///
/// The shell wakes up at least every `Supervisor.wakeUpLimitMilliseconds`,
/// below `tolerance`, and observes the clock at each wake-up and before
/// each wait; a longer gap between two observations means the loop was
/// late by the excess.
public struct PresenceClock: Equatable, Sendable {
    public let tolerance: Duration
    private var lastRaw: MonotonicInstant?
    public private(set) var now: MonotonicInstant
    /// Time not counted so far.
    public private(set) var absence: Duration = .zero

    public init(tolerance: Duration, origin: MonotonicInstant) {
        self.tolerance = tolerance
        self.now = origin
    }

    /// Observes the raw clock; returns how much of the gap since the last
    /// observation was not counted (zero when the loop was on time).
    @discardableResult
    public mutating func observe(_ raw: MonotonicInstant) -> Duration {
        defer { lastRaw = raw }
        guard let last = lastRaw, raw > last else {
            if lastRaw == nil { now = raw }
            return .zero
        }
        let gap = raw - last
        if gap <= tolerance {
            now = now + gap
            return .zero
        }
        now = now + tolerance
        absence += gap - tolerance
        return gap - tolerance
    }
}
