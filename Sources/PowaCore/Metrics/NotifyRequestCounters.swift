/// NOTIFY requests handled, by command and outcome, for the metrics
/// endpoint. The command label is one of the protocol's words or `other`,
/// so that a hostile sender cannot create series at will.
public struct NotifyRequestCounters: Equatable, Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var command: String
        /// `ok`, `error`, `unknown`, `ko`, `denied` or `unanswered` (asked
        /// for no answer, or none could be sent).
        public var outcome: String

        public init(command: String, outcome: String) {
            self.command = command
            self.outcome = outcome
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.command, lhs.outcome) < (rhs.command, rhs.outcome)
        }
    }

    public static let knownCommands: Set<String> = ["WORKERS_STATUS", "RELOAD", "FORCE_SNAPSHOT", "REFRESH_DB_CAT"]

    public private(set) var counts: [Key: Int] = [:]

    public init() {}

    public mutating func record(command: String, outcome: String) {
        let label = Self.knownCommands.contains(command) ? command : "other"
        counts[Key(command: label, outcome: outcome), default: 0] += 1
    }

    public static func outcome(_ status: NotifyAnswerStatus) -> String {
        status.rawValue.lowercased()
    }
}
