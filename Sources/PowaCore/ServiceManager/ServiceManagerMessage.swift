/// One message of systemd's notify protocol (`sd_notify(3)`): newline
/// separated `KEY=value` assignments, sent as one datagram.
public enum ServiceManagerMessage: Equatable, Sendable {
    case ready
    /// `RELOADING=1` with the monotonic time of the reload's start, which
    /// systemd requires beside it (`MONOTONIC_USEC`, CLOCK_MONOTONIC µs).
    case reloading(monotonicMicroseconds: UInt64)
    case stopping
    /// A one-line summary shown by `systemctl status`.
    case status(String)
    /// The watchdog keep-alive.
    case watchdog

    /// Longest `STATUS=` text sent; `systemctl status` shows one line, and
    /// a datagram must stay far below the socket's buffer.
    public static let maximumStatusBytes = 200

    /// The datagram's text.
    public var datagram: String {
        switch self {
        case .ready: "READY=1"
        case .reloading(let microseconds): "RELOADING=1\nMONOTONIC_USEC=\(microseconds)"
        case .stopping: "STOPPING=1"
        case .status(let text): "STATUS=" + Self.oneLine(text)
        case .watchdog: "WATCHDOG=1"
        }
    }

    /// A newline would start a new assignment: the status becomes one line,
    /// cut to `maximumStatusBytes` on a character boundary.
    static func oneLine(_ text: String) -> String {
        var line = ""
        var bytes = 0
        for character in text {
            let piece = character.isNewline ? " " : String(character)
            bytes += piece.utf8.count
            if bytes > maximumStatusBytes { break }
            line += piece
        }
        return line
    }
}
