import ProcessSupport

/// The state machine's clock: seconds on `CLOCK_MONOTONIC` since the
/// supervisor started. Monotonic so that a wall-clock step (NTP, DST, an
/// operator's `date -s`) never fires the watchdog or delays a restart.
struct MonotonicClock {
    private let origin: Double

    init() { origin = Self.raw() }

    func now() -> Double { Self.raw() - origin }

    private static func raw() -> Double { SystemClock.now() }
}
