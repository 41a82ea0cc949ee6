/// systemd's watchdog as the environment sets it: `WATCHDOG_USEC` (the
/// limit) and, when present, `WATCHDOG_PID`, which must be our pid (the
/// variables are inherited by children, which must not answer for us).
public struct ServiceWatchdog: Equatable, Sendable {
    /// systemd's limit, in seconds.
    public var limit: Double

    public init?(watchdogMicroseconds: String?, watchdogPID: String?, ownPID: Int32) {
        guard let text = watchdogMicroseconds, let microseconds = UInt64(text), microseconds > 0 else { return nil }
        if let watchdogPID, Int32(watchdogPID) != ownPID { return nil }
        limit = Double(microseconds) / 1_000_000
    }

    /// Keep-alives go out at half the limit, as `sd_watchdog_enabled(3)`
    /// recommends: one late wake-up does not make the service look hung.
    public var pingInterval: Double { limit / 2 }
}
