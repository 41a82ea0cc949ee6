/// Reading `powa_snapshot_metas.snapts` as returned by
/// `RepositorySQL.lastSnapshotTime(srvid:)`.
public enum SnapshotTimestamp {
    /// Seconds since the Unix epoch, or nil when no snapshot was ever taken:
    /// SQL NULL (the query maps `-infinity` to NULL), or a non-finite value
    /// (`-Infinity`, as `EXTRACT(EPOCH …)` reports `-infinity` elsewhere).
    public static func parseEpoch(_ text: String?) -> Double? {
        guard let text, let value = Double(text), value.isFinite else {
            return nil
        }
        return value
    }
}
