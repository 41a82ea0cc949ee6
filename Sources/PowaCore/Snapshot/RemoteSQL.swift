/// Statements run on the remote server, apart from the datasource copies
/// that `SnapshotPlan` builds.
public enum RemoteSQL {
    /// Databases that accept connections, for per-database data (PoWA 5).
    public static let databases = """
        SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY datname
        """

    /// `server_version`, recorded in `powa_servers.version`.
    public static let serverVersion = "SELECT pg_catalog.current_setting('server_version')"

    /// hypopg's installable version: it is used by powa-web in any database
    /// and need not be installed in the powa one, so its availability is
    /// what gets recorded.
    public static let hypopgAvailableVersion = """
        SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = 'hypopg'
        """

    /// The remote's `now()` for the `ts` column of per-database modules, so
    /// that every database of one snapshot has the same timestamp. Formatted
    /// in UTC with an explicit offset so that it reads back identically
    /// whatever the DateStyle and TimeZone of the per-database sessions.
    public static let now = """
        SELECT pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'
        """
}
