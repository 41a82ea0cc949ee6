/// How many requests arrived on `powa_collector`, by command and outcome,
/// since the supervisor started: what a metrics endpoint exposes, and what
/// the log no longer shows line by line (see `RequestLogThrottle`).
public struct NotifyRequestCounters: Equatable, Sendable {
    /// The command of a request; anything not known is `unknown`, so the
    /// set of counters stays bounded whatever the senders write.
    public enum Command: String, CaseIterable, Sendable {
        case reload = "RELOAD"
        case workersStatus = "WORKERS_STATUS"
        case forceSnapshot = "FORCE_SNAPSHOT"
        case refreshCatalogs = "REFRESH_DB_CAT"
        case unknown

        public init(word: String) {
            self = Command(rawValue: word).flatMap { $0 == .unknown ? nil : $0 } ?? .unknown
        }
    }

    /// What became of a request.
    public enum Outcome: String, CaseIterable, Sendable {
        /// Carried out, or answered `OK`.
        case done
        /// Well formed but not done (a snapshot already running, no such
        /// worker, shutting down…): answered `ERROR`.
        case declined
        /// Malformed arguments: answered `ERROR`.
        case invalid
        /// Not a command of the protocol: answered `UNKNOWN`.
        case unknownCommand = "unknown_command"
        /// The sender may not ask: answered `ERROR Permission denied`.
        case refused
        /// Its answer would not fit in a notification: answered `KO`.
        case tooLong = "too_long"
        /// It named a channel PostgreSQL cannot notify: carried out
        /// (when permitted) but not answered.
        case unanswerable
    }

    public struct Key: Hashable, Sendable {
        public var command: Command
        public var outcome: Outcome
    }

    public private(set) var counts: [Key: Int] = [:]

    public init() {}

    public subscript(command: Command, outcome: Outcome) -> Int {
        counts[Key(command: command, outcome: outcome)] ?? 0
    }

    /// Every request counted.
    public var total: Int { counts.values.reduce(0, +) }

    public mutating func count(_ command: Command, _ outcome: Outcome) {
        counts[Key(command: command, outcome: outcome), default: 0] += 1
    }
}
