/// Statements run on the repository, for one PoWA version and the schema
/// where the repository's `powa` extension lives.
///
/// Values travel as parameters; only the schema, quoted once here by the
/// injected function (libpq's `PQescapeIdentifier` in the worker), is
/// spliced into the text.
public struct RepositorySQL: Sendable {
    public let version: PowaVersion
    /// The powa schema, quoted.
    public let powaSchema: String

    /// - Parameters:
    ///   - version: the repository's powa version.
    ///   - powaSchema: the raw name of the schema of the `powa` extension.
    ///   - quoteIdentifier: quotes an identifier for SQL text.
    public init(version: PowaVersion, powaSchema: String, quoteIdentifier: (String) -> String) {
        self.version = version
        self.powaSchema = quoteIdentifier(powaSchema)
    }

    private var nsp: String { powaSchema }

    // MARK: Reading what to collect

    /// Enabled snapshot datasources of a server, in priority order.
    /// Columns: `DatasourceRow.columns`. PoWA 4 has a `module` and no
    /// `external`; PoWA 5 has both.
    public func globalDatasources(srvid: Int) -> SQLStatement {
        // PoWA 4.1 names the extension each module reads from; 4.0 does not,
        // and PoWA 5 marks it through `external` instead.
        let select =
            version.major >= 5
            ? "SELECT name, external, query_source, query_cleanup, function_name, NULL::text AS required_extension"
            : version.minor >= 1
                ? "SELECT module AS name, false AS external, query_source, query_cleanup, function_name,"
                    + " extname::text AS required_extension"
                : "SELECT module AS name, false AS external, query_source, query_cleanup, function_name,"
                    + " NULL::text AS required_extension"
        return SQLStatement(
            select + " FROM \(nsp).powa_functions"
                + " WHERE operation = 'snapshot' AND enabled AND srvid = $1"
                + " ORDER BY priority, name",
            parameters: [String(srvid)])
    }

    /// Enabled per-database modules of a server (PoWA 5; nil before),
    /// with the source query for the remote's PostgreSQL version.
    /// Columns: `DbModuleRow.columns`.
    ///
    /// Unlike the reference collector this keeps only `enabled` rows:
    /// `powa_deactivate_db_module` leaves a disabled row with NULL dbnames,
    /// which would otherwise read as "every database", and
    /// `powa_take_snapshot` would never consume what was copied.
    public func databaseModules(srvid: Int, serverVersionNum: Int) -> SQLStatement? {
        guard version.collectsPerDatabaseData else { return nil }
        return SQLStatement(
            "SELECT db_module, query_source, tmp_table, dbnames"
                + " FROM \(nsp).powa_db_functions($1::integer, $2::integer)"
                + " WHERE operation = 'snapshot' AND enabled"
                + " ORDER BY priority, db_module",
            parameters: [String(srvid), String(serverVersionNum)])
    }

    /// Catalogs to import (PoWA 5; nil before). Normally with an interval of
    /// one year, so that databases refreshed within it come back in
    /// `excluded_dbnames`; with NULL when a refresh is forced, so that none
    /// is excluded. Columns: `CatalogRow.columns`.
    public func catalogs(srvid: Int, serverVersionNum: Int, forceRefresh: Bool) -> SQLStatement? {
        guard version.collectsPerDatabaseData else { return nil }
        let interval = forceRefresh ? "NULL" : "'1 year'"
        return SQLStatement(
            "SELECT catname, query_source, tmp_table, excluded_dbnames"
                + " FROM \(nsp).powa_catalog_functions($1::integer, $2::integer, \(interval)::interval)"
                + " ORDER BY catname",
            parameters: [String(srvid), String(serverVersionNum)])
    }

    // MARK: Snapshot bookkeeping

    /// Start of the server's last snapshot in seconds since the epoch, NULL
    /// when none was taken (`snapts` is `-infinity`); no row when the server
    /// is not registered. Read it with `SnapshotTimestamp.parseEpoch`.
    public func lastSnapshotTime(srvid: Int) -> SQLStatement {
        SQLStatement(
            "SELECT CASE WHEN pg_catalog.isfinite(snapts) THEN EXTRACT(EPOCH FROM snapts) END"
                + " FROM \(nsp).powa_snapshot_metas WHERE srvid = $1",
            parameters: [String(srvid)])
    }

    /// Integrates the `_tmp` rows; returns the number of failed functions.
    /// It locks the server's `powa_snapshot_metas` row with NOWAIT, resets
    /// its `errors` and sets `snapts = now()`.
    public func takeSnapshot(srvid: Int) -> SQLStatement {
        SQLStatement("SELECT \(nsp).powa_take_snapshot($1::integer)", parameters: [String(srvid)])
    }

    /// Adds the collector's errors after those `powa_take_snapshot` stored.
    public func appendErrors(srvid: Int, errors: [String]) -> SQLStatement {
        SQLStatement(
            "UPDATE \(nsp).powa_snapshot_metas SET errors = pg_catalog.array_cat(errors, $2::text[])"
                + " WHERE srvid = $1",
            parameters: [String(srvid), TextArrayLiteral.encode(errors)])
    }

    /// Replaces the stored errors, when no snapshot could run at all
    /// (connection failure, version mismatch).
    public func replaceErrors(srvid: Int, errors: [String]) -> SQLStatement {
        SQLStatement(
            "UPDATE \(nsp).powa_snapshot_metas SET errors = $2::text[] WHERE srvid = $1",
            parameters: [String(srvid), TextArrayLiteral.encode(errors)])
    }

    /// Clears the previous snapshot's errors when `powa_take_snapshot`
    /// failed before doing it itself.
    public func clearErrors(srvid: Int) -> SQLStatement {
        SQLStatement(
            "UPDATE \(nsp).powa_snapshot_metas SET errors = NULL WHERE srvid = $1", parameters: [String(srvid)])
    }

    // MARK: Versions (not on PoWA 4.0, see `PowaVersion.recordsComponentVersions`)

    /// Records the remote's `server_version` when it changed.
    public func saveServerVersion(srvid: Int, serverVersion: String) -> SQLStatement? {
        guard version.recordsComponentVersions else { return nil }
        return SQLStatement(
            "UPDATE \(nsp).powa_servers SET version = $2 WHERE id = $1 AND version IS DISTINCT FROM $2",
            parameters: [String(srvid), serverVersion])
    }

    /// Extensions the repository knows for the server, with their recorded
    /// versions. Columns: `ExtensionVersionRow.columns`.
    public func extensionVersions(srvid: Int) -> SQLStatement? {
        guard version.recordsComponentVersions else { return nil }
        return SQLStatement(
            "SELECT extname, version FROM \(nsp).\(version.extensionVersionTable) WHERE srvid = $1",
            parameters: [String(srvid)])
    }

    public func updateExtensionVersion(srvid: Int, extname: String, version extversion: String) -> SQLStatement? {
        guard version.recordsComponentVersions else { return nil }
        return SQLStatement(
            "UPDATE \(nsp).\(version.extensionVersionTable) SET version = $3 WHERE srvid = $1 AND extname = $2",
            parameters: [String(srvid), extname, extversion])
    }

    public func insertExtensionVersion(srvid: Int, extname: String, version extversion: String) -> SQLStatement? {
        guard version.recordsComponentVersions else { return nil }
        return SQLStatement(
            "INSERT INTO \(nsp).\(version.extensionVersionTable) (srvid, extname, version) VALUES ($1, $2, $3)",
            parameters: [String(srvid), extname, extversion])
    }

    public func deleteExtensionVersion(srvid: Int, extname: String) -> SQLStatement? {
        guard version.recordsComponentVersions else { return nil }
        return SQLStatement(
            "DELETE FROM \(nsp).\(version.extensionVersionTable) WHERE srvid = $1 AND extname = $2",
            parameters: [String(srvid), extname])
    }
}
