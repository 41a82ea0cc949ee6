/// How long one snapshot may run.
///
/// A remote that hangs (a source function that never returns, a server
/// frozen mid-COPY) must cost one snapshot, not the worker. By default a
/// snapshot may run for one period (it cannot usefully overlap the next
/// one), but never less than `minimumDefault` seconds so that a short
/// frequency does not cut a legitimately slow snapshot. The config key
/// `snapshot_timeout` overrides it. The remote connection's
/// `statement_timeout` is set to that value, so a slow datasource fails
/// alone; the worker cancels, then disconnects, a snapshot that outlives
/// it by a few seconds (a server too frozen to apply its own timeout).
public enum SnapshotBudget {
    public static let minimumDefault: Double = 30

    public static func seconds(for configuration: WorkerConfiguration) -> Double {
        if let explicit = configuration.snapshotTimeout, explicit > 0 { return explicit }
        return max(Double(configuration.frequency), minimumDefault)
    }
}
