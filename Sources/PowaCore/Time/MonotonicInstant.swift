/// A point on the supervisor's clock (monotonic, nanoseconds since an
/// arbitrary origin chosen by the shell). Typed so that an instant is never
/// mixed up with a duration, and compared exactly (no floating point).
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// From seconds on the same clock, for the machine's `Double` interface.
    public init(seconds: Double) {
        nanoseconds = Int64((seconds * 1e9).rounded())
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func + (instant: Self, duration: Duration) -> Self {
        Self(nanoseconds: instant.nanoseconds + duration.wholeNanoseconds)
    }

    public static func - (instant: Self, duration: Duration) -> Self {
        Self(nanoseconds: instant.nanoseconds - duration.wholeNanoseconds)
    }

    public static func - (a: Self, b: Self) -> Duration {
        .nanoseconds(a.nanoseconds - b.nanoseconds)
    }

    public var description: String { "\(seconds) s" }
}

extension Duration {
    /// The duration in nanoseconds, saturated to `Int64`.
    public var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product + attoseconds / 1_000_000_000
    }

    /// The duration in seconds, for messages and the machine's `Double` API.
    public var inSeconds: Double { Double(wholeNanoseconds) / 1e9 }

    /// From a number of seconds (`Duration.seconds(Double)` rounds through
    /// attoseconds; this is the one place that conversion happens).
    public static func fromSeconds(_ seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
