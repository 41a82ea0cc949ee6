/// The reference collector's rule for `FORCE_SNAPSHOT`, the one both sides
/// apply: the supervisor, to answer powa-web at once from the statuses it
/// has aggregated, and the worker's schedule, which must stay safe on its
/// own since two messages can cross and a snapshot may have started in
/// between.
public enum ForcedSnapshotRule {
    /// A forced snapshot closer than this (seconds) to the last start,
    /// regular or forced, is refused.
    public static let minimumInterval: Double = 10

    /// Why a forced snapshot must be refused now, or nil when it may be
    /// queued. `secondsSinceLastStart` is nil when no snapshot is known.
    public static func refusal(
        snapshotRunning: Bool, forcedSnapshotQueued: Bool, secondsSinceLastStart: Double?
    ) -> ForcedSnapshotRefusal? {
        if snapshotRunning { return .snapshotInProgress }
        if forcedSnapshotQueued { return .alreadyQueued }
        if let elapsed = secondsSinceLastStart, elapsed < minimumInterval {
            return .tooSoon(secondsSinceLastStart: elapsed)
        }
        return nil
    }
}
