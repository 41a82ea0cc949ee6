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

    public init(start: Double, forced: Bool, catalogRefresh: CatalogRefreshRequest?) {
        self.start = start
        self.forced = forced
        self.catalogRefresh = catalogRefresh
    }
}
