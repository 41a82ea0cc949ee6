import Glibc
import Logging
import PowaCore
import Synchronization

/// A swift-log handler writing the reference collector's line format to
/// stderr, one `write` per line so that lines of the supervisor and of its
/// workers (which share stderr) never interleave mid-line.
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    /// The threshold, shared by every logger of the process so that a
    /// reload can switch debug output on or off.
    public var logLevel: Logger.Level {
        get { Self.settings.withLock { $0.level } }
        set { Self.settings.withLock { $0.level = newValue } }
    }
    /// The name printed after the timestamp: `-` for the supervisor, the
    /// server's name for a worker (known only once its `start` line is read).
    public var threadName: String { Self.settings.withLock { $0.threadName } }

    /// Metadata key that names a line's thread instead of `threadName`:
    /// the supervisor logs about one worker under that worker's name, as
    /// the reference (where each worker is a thread) does.
    public static let threadNameMetadataKey = "thread"

    struct Settings {
        var threadName: String
        var level: Logger.Level
    }

    static let settings = Mutex(Settings(threadName: "-", level: .info))

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var name = threadName
        if case .string(let override)? = event.metadata?[Self.threadNameMetadataKey]
            ?? metadata[Self.threadNameMetadataKey]
        {
            name = override
        }
        let line =
            CollectorLogLine.format(
                time: Self.now(), threadName: name, level: event.level, message: "\(event.message)") + "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    static func now() -> CollectorLogLine.Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        return .init(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec),
            millisecond: Int(spec.tv_nsec / 1_000_000))
    }

    /// Sets up swift-log for the whole process, once, at start.
    public static func bootstrap(threadName: String, debug: Bool) {
        configure(threadName: threadName, debug: debug)
        LoggingSystem.bootstrap { _ in StderrLogHandler() }
    }

    /// Changes the name and level of every logger of the process.
    public static func configure(threadName: String? = nil, debug: Bool) {
        settings.withLock {
            if let threadName { $0.threadName = threadName }
            $0.level = debug ? .debug : .info
        }
    }
}
