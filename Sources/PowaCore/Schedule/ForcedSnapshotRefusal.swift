/// Why a forced snapshot was refused (see `ForcedSnapshotRule`).
public enum ForcedSnapshotRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// A snapshot is running; it will have fresh data anyway.
    case snapshotInProgress
    /// A forced snapshot is already waiting to start.
    case alreadyQueued
    /// The last snapshot started less than
    /// `ForcedSnapshotRule.minimumInterval` seconds ago.
    case tooSoon(secondsSinceLastStart: Double)

    /// The text of the `ERROR` answer sent to powa-web, and of the worker's
    /// log line when it refuses on its own.
    public var description: String {
        switch self {
        case .snapshotInProgress:
            "a snapshot is already running"
        case .alreadyQueued:
            "a forced snapshot is already queued"
        case .tooSoon:
            "the last snapshot started less than \(Int(ForcedSnapshotRule.minimumInterval.rounded())) s ago"
        }
    }
}
