extension SnapshotPlan {
    /// Which remote databases to connect to and what to copy from each
    /// (PoWA 5).
    ///
    /// - A db module collects a database when its `dbnames` is NULL or lists
    ///   it.
    /// - A catalog is imported from a database when a refresh is forced for
    ///   it (`catalogRefresh` is `.allDatabases` or names it), or, with no
    ///   refresh forced, when the database is not in the catalog's
    ///   `excluded_dbnames` (refreshed within the last year). When a refresh
    ///   is forced for some databases only, the others get no catalogs in
    ///   this snapshot: the catalog rows were then read with a NULL interval
    ///   and say nothing of staleness; the next regular snapshot catches up.
    /// - A database with neither gets no connection (the reference connects
    ///   to every database in that forced case, for nothing).
    ///
    /// The module query reads, on the remote database,
    /// `SELECT <srvid> AS srvid, <ts> AS ts, d.dbid, src.* FROM (<query_source>) src
    /// CROSS JOIN (SELECT oid AS dbid FROM pg_catalog.pg_database WHERE datname =
    /// pg_catalog.current_database()) d`, catalogs the same without `ts`.
    ///
    /// - Parameters:
    ///   - remoteDatabases: `RemoteSQL.databases`, in the order to visit them.
    ///   - catalogRefresh: the forced refresh taken by this snapshot
    ///     (`SnapshotStart.catalogRefresh`); nil when none.
    ///   - remoteNow: the remote's `now()` as text (`RemoteSQL.now`), the same
    ///     `ts` for every database.
    ///   - quoteLiteral: quotes a string as an SQL literal, quotes included
    ///     (libpq's `PQescapeLiteral` in the worker).
    public static func perDatabasePlan(
        srvid: Int, remoteDatabases: [String], databaseModules: [DbModuleRow], catalogs: [CatalogRow],
        catalogRefresh: CatalogRefreshRequest?, remoteNow: String, quoteLiteral: (String) -> String
    ) -> PerDatabasePlan {
        var warnings: [String] = []
        var modules: [(row: DbModuleRow, querySource: String)] = []
        for row in databaseModules {
            if let querySource = row.querySource {
                modules.append((row, querySource))
            } else {
                warnings.append(SnapshotErrorText.noQuerySource(datasource: row.dbModule))
            }
        }
        var catalogSources: [(row: CatalogRow, querySource: String)] = []
        for row in catalogs {
            if let querySource = row.querySource {
                catalogSources.append((row, querySource))
            } else {
                warnings.append(SnapshotErrorText.noQuerySource(datasource: row.catname))
            }
        }

        let ts = quoteLiteral(remoteNow)
        var databases: [DatabaseWork] = []
        for dbname in remoteDatabases {
            var copies: [CopyStep] = []
            for (row, querySource) in modules where row.applies(to: dbname) {
                copies.append(
                    CopyStep(
                        name: row.dbModule,
                        source: copySource(select: "SELECT \(srvid) AS srvid, \(ts) AS ts, d.dbid, src.*", querySource),
                        target: "COPY \(row.tmpTable) FROM STDIN"))
            }
            for (row, querySource) in catalogSources
            where importsCatalog(row, of: dbname, refresh: catalogRefresh) {
                copies.append(
                    CopyStep(
                        name: row.catname,
                        source: copySource(select: "SELECT \(srvid) AS srvid, d.dbid, src.*", querySource),
                        target: "COPY \(row.tmpTable) FROM STDIN"))
            }
            if !copies.isEmpty {
                databases.append(DatabaseWork(dbname: dbname, copies: copies))
            }
        }
        return PerDatabasePlan(databases: databases, warnings: warnings)
    }

    static func importsCatalog(_ row: CatalogRow, of dbname: String, refresh: CatalogRefreshRequest?) -> Bool {
        guard let refresh else { return !row.excludedDbnames.contains(dbname) }
        return refresh.includes(dbname)
    }

    /// The source query sits on lines of its own so that a trailing `--`
    /// comment in it cannot swallow the closing parenthesis.
    static func copySource(select: String, _ querySource: String) -> String {
        "COPY (\(select)\nFROM (\n\(querySource)\n) src\n"
            + "CROSS JOIN (SELECT oid AS dbid FROM pg_catalog.pg_database"
            + " WHERE datname = pg_catalog.current_database()) d\n) TO STDOUT"
    }
}
