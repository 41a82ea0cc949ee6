/// Keeps the log readable, and the disk safe, when requests that deserve
/// a warning (a refused sender, an unusable channel name) come by the
/// thousand: any role that can connect to the repository can NOTIFY.
///
/// Each warning has a kind, from a small fixed set (the caller never makes
/// a kind out of a request's own words). The first warning of a kind is
/// logged in full and opens a window of `interval`; the warnings of
/// that kind within the window are only counted, per sender, and summed up
/// in one line when the window ends. So each kind writes at most one line
/// per `interval` however fast the requests come, and a kind that stays
/// quiet for a whole window is logged in full again next time.
///
/// A plain value: time is passed in, and the lines to write are returned.
public struct RequestLogThrottle: Equatable, Sendable {
    public static let standardInterval: Duration = .seconds(10)
    /// Senders named in a summary line; the others are summed up.
    public static let sendersListed = 3
    /// Senders counted apart within one window; the others are summed up,
    /// so that a flood from ever new backends takes bounded memory.
    public static let sendersTracked = 64

    public let interval: Duration
    private var windows: [String: Window] = [:]

    /// What was seen of one kind since its last line.
    private struct Window: Equatable, Sendable {
        var openedAt: MonotonicInstant
        var suppressed = 0
        var bySender: [Int32: Int] = [:]
        var fromOtherSenders = 0

        mutating func count(sender: Int32) {
            suppressed += 1
            if bySender[sender] != nil || bySender.count < RequestLogThrottle.sendersTracked {
                bySender[sender, default: 0] += 1
            } else {
                fromOtherSenders += 1
            }
        }
    }

    public init(interval: Duration = standardInterval) {
        self.interval = interval
    }

    /// One more warning of `kind` (`message` is its full text) from backend
    /// `sender` (0 when unknown). Returns the lines to log now: the message
    /// itself when it opens a window, a summary when it comes after a window
    /// that ended with warnings left to report, nothing within a window.
    public mutating func record(kind: String, message: String, sender: Int32, now: MonotonicInstant) -> [String] {
        guard var window = windows[kind] else {
            windows[kind] = Window(openedAt: now)
            return [message]
        }
        if now < window.openedAt + interval {
            window.count(sender: sender)
            windows[kind] = window
            return []
        }
        if window.suppressed == 0 {
            windows[kind] = Window(openedAt: now)
            return [message]
        }
        window.count(sender: sender)
        windows[kind] = Window(openedAt: now)
        return [Self.summary(kind: kind, window, now: now)]
    }

    /// The summaries of the windows that ended by `now`. A summary opens
    /// the next window, so that a steady flood writes one line per
    /// interval; a window that ended with nothing to report is forgotten.
    public mutating func flush(now: MonotonicInstant) -> [String] {
        var lines: [String] = []
        for kind in windows.keys.sorted() {
            guard let window = windows[kind], now >= window.openedAt + interval else { continue }
            if window.suppressed > 0 {
                lines.append(Self.summary(kind: kind, window, now: now))
                windows[kind] = Window(openedAt: now)
            } else {
                windows[kind] = nil
            }
        }
        return lines
    }

    /// When `flush` next has a summary to give, or nil when none is pending.
    /// Read on every event, so it allocates nothing (the kinds are few).
    public var nextSummaryDue: MonotonicInstant? {
        var due: MonotonicInstant?
        for window in windows.values where window.suppressed > 0 {
            let end = window.openedAt + interval
            if due.map({ end < $0 }) ?? true { due = end }
        }
        return due
    }

    /// `KIND: N more in the last S s (backend P: n, …, K other senders: m)`.
    private static func summary(kind: String, _ window: Window, now: MonotonicInstant) -> String {
        let ranked = window.bySender.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        var parts = ranked.prefix(sendersListed).map { "\(senderName($0.key)): \($0.value)" }
        let others = ranked.dropFirst(sendersListed)
        let otherCount = others.reduce(0) { $0 + $1.value } + window.fromOtherSenders
        if otherCount > 0 {
            let senders = others.count + (window.fromOtherSenders > 0 ? 1 : 0)
            parts.append(
                "\(window.fromOtherSenders > 0 ? "\(senders)+" : "\(senders)") other "
                    + "sender\(senders == 1 && window.fromOtherSenders == 0 ? "" : "s"): \(otherCount)")
        }
        let seconds = Int((now - window.openedAt).inSeconds.rounded())
        return "\(kind): \(window.suppressed) more in the last \(seconds) s (\(parts.joined(separator: ", ")))"
    }

    private static func senderName(_ pid: Int32) -> String {
        pid == 0 ? "unknown backend" : "backend \(pid)"
    }
}
