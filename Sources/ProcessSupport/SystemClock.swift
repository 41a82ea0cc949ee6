import Glibc

/// The system's clocks as seconds: monotonic for deadlines and intervals
/// (a wall-clock step never moves them), wall for timestamps.
public enum SystemClock {
    public static func now() -> Double {
        seconds(CLOCK_MONOTONIC)
    }

    public static func wallNow() -> Double {
        seconds(CLOCK_REALTIME)
    }

    private static func seconds(_ clock: clockid_t) -> Double {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
