/// Why a forced snapshot was refused. The supervisor applies the same rules
/// before asking, but a worker must stay safe on its own: two messages can
/// cross, and a snapshot may have started in between.
public enum ForcedSnapshotRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// A snapshot is running; it will have fresh data anyway.
    case snapshotInProgress
    /// A forced snapshot is already waiting to start.
    case alreadyQueued
    /// The last snapshot started less than
    /// `SnapshotSchedule.minimumForceInterval` seconds ago.
    case tooSoon(secondsSinceLastStart: Double)

    /// The text of the `ERROR` answer sent to powa-web.
    public var description: String {
        switch self {
        case .snapshotInProgress:
            "A snapshot is running right now"
        case .alreadyQueued:
            "A forced snapshot is already waiting to start"
        case .tooSoon(let elapsed):
            "The last snapshot started \(Int(elapsed.rounded(.down))) s ago, less than "
                + "\(Int(SnapshotSchedule.minimumForceInterval)) s"
        }
    }
}
