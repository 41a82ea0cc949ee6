/// One catalog to import from each remote database (PoWA 5): a row of
/// `RepositorySQL.catalogs(srvid:serverVersionNum:forceRefresh:)`.
public struct CatalogRow: Equatable, Sendable {
    /// Column order of `RepositorySQL.catalogs(srvid:serverVersionNum:forceRefresh:)`.
    public static let columns = ["catname", "query_source", "tmp_table", "excluded_dbnames"]

    public var catname: String
    /// Nil when no source query suits the remote's PostgreSQL version.
    public var querySource: String?
    /// Qualified, already quoted repository table (trusted, from PoWA).
    public var tmpTable: String
    /// Databases whose copy of this catalog is still fresh (refreshed within
    /// the interval asked for); always empty when a refresh is forced.
    public var excludedDbnames: [String]

    public init(catname: String, querySource: String?, tmpTable: String, excludedDbnames: [String]) {
        self.catname = catname
        self.querySource = querySource
        self.tmpTable = tmpTable
        self.excludedDbnames = excludedDbnames
    }

    public init(row values: [String?]) throws(RowDecodingError) {
        let row = try TextRow(values, columns: Self.columns)
        self.init(
            catname: try row.string(0), querySource: row.optionalString(1), tmpTable: try row.string(2),
            excludedDbnames: try row.optionalTextArray(3) ?? [])
    }
}
