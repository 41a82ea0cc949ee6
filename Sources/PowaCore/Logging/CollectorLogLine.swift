import Logging

/// The reference collector's log line format, so that existing log parsing
/// and habits keep working:
/// `2026-11-25 10:42:09,157 127.0.0.1:5432 INFO  : Starting worker `
/// (timestamp in local time with milliseconds, the worker's name or `-` for
/// the main process, the level padded to six characters, a colon, the
/// message and a trailing space, as Python's logging prints it).
public enum CollectorLogLine {
    /// Local wall-clock time broken down, as `localtime_r` gives it.
    public struct Timestamp: Equatable, Sendable {
        public var year, month, day, hour, minute, second, millisecond: Int
        public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
            self.year = year
            self.month = month
            self.day = day
            self.hour = hour
            self.minute = minute
            self.second = second
            self.millisecond = millisecond
        }
    }

    /// Python's level names for swift-log's levels.
    public static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }

    public static func format(
        time: Timestamp, threadName: String, level: Logger.Level, message: String
    ) -> String {
        let date = "\(pad(time.year, 4))-\(pad(time.month, 2))-\(pad(time.day, 2))"
        let clock = "\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2)),\(pad(time.millisecond, 3))"
        var level = levelName(level)
        while level.count < 6 { level += " " }
        return "\(date) \(clock) \(threadName) \(level): \(message) "
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
