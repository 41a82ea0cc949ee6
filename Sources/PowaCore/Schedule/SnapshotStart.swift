/// The schedule's decision to start a snapshot now, with everything the
/// snapshot must take along.
public struct SnapshotStart: Equatable, Sendable {
    /// When the snapshot starts, on the schedule's clock.
    public var start: Double
    /// True when a forced snapshot (powa-web's `FORCE_SNAPSHOT`) is served
    /// by this snapshot, whether or not a regular one was due as well.
    public var forced: Bool
    /// Catalogs to refresh in this snapshot, taken off the schedule. If the
    /// snapshot does not commit, hand it back through
    /// `SnapshotSchedule.snapshotFinished(now:unconsumedCatalogRefresh:)`
    /// so that it is not lost.
    public var catalogRefresh: CatalogRefreshRequest?
    /// When the regular snapshot this one serves was due, on the schedule's
    /// clock; nil for a forced snapshot ahead of the grid. How late a
    /// snapshot began against it is what an overloaded machine shows.
    public var due: Double?

    public init(start: Double, forced: Bool, catalogRefresh: CatalogRefreshRequest?, due: Double? = nil) {
        self.start = start
        self.forced = forced
        self.catalogRefresh = catalogRefresh
        self.due = due
    }
}
