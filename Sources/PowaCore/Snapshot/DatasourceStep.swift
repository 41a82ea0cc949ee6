/// What to do for one global datasource, in `SnapshotPlan.datasourceSteps`.
public enum DatasourceStep: Equatable, Sendable {
    /// Copy its rows (and run its cleanup).
    case copy(CopyStep)
    /// It cannot be collected: record `error` in the snapshot's errors and
    /// go on with the next one.
    case skip(datasource: String, error: String)
    /// Nothing to collect remotely (no `query_source`): log `warning` only,
    /// as the reference does.
    case ignore(datasource: String, warning: String)
}
