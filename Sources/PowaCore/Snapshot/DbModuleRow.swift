/// One per-database module to snapshot (PoWA 5): a row of
/// `RepositorySQL.databaseModules(srvid:serverVersionNum:)`.
public struct DbModuleRow: Equatable, Sendable {
    /// Column order of `RepositorySQL.databaseModules(srvid:serverVersionNum:)`.
    public static let columns = ["db_module", "query_source", "tmp_table", "dbnames"]

    public var dbModule: String
    /// A query run in each selected database; nil when no source query
    /// suits the remote's PostgreSQL version.
    public var querySource: String?
    /// Qualified, already quoted repository table (trusted, from PoWA).
    public var tmpTable: String
    /// The databases to collect; nil means every database.
    public var dbnames: [String]?

    public init(dbModule: String, querySource: String?, tmpTable: String, dbnames: [String]?) {
        self.dbModule = dbModule
        self.querySource = querySource
        self.tmpTable = tmpTable
        self.dbnames = dbnames
    }

    public init(row values: [String?]) throws(RowDecodingError) {
        let row = try TextRow(values, columns: Self.columns)
        self.init(
            dbModule: try row.string(0), querySource: row.optionalString(1), tmpTable: try row.string(2),
            dbnames: try row.optionalTextArray(3))
    }

    /// Whether this module collects `dbname`.
    public func applies(to dbname: String) -> Bool {
        dbnames.map { $0.contains(dbname) } ?? true
    }
}
