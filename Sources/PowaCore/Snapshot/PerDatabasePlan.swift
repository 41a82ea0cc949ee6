/// Everything per-database for one snapshot (PoWA 5): the databases to
/// connect to, in order, and warnings to log once.
public struct PerDatabasePlan: Equatable, Sendable {
    public var databases: [DatabaseWork]
    /// Rows that cannot be collected and are only logged (no source query
    /// for the remote's PostgreSQL version).
    public var warnings: [String]

    public init(databases: [DatabaseWork], warnings: [String]) {
        self.databases = databases
        self.warnings = warnings
    }

    /// No per-database work: PoWA 4, or nothing configured.
    public static let empty = PerDatabasePlan(databases: [], warnings: [])
}
