/// One global datasource to snapshot for a server: a row of
/// `RepositorySQL.globalDatasources(srvid:)`.
///
/// Normalized across versions: PoWA 4's `powa_functions` table has a
/// `module` and no `external` (its source functions all live in powa's
/// schema), so its rows read as `name = module, external = false`; PoWA 5's
/// view has both columns.
public struct DatasourceRow: Equatable, Sendable {
    /// Column order of `RepositorySQL.globalDatasources(srvid:)`.
    public static let columns = [
        "name", "external", "query_source", "query_cleanup", "function_name", "required_extension",
    ]

    /// Extension or module name (PoWA 5), module (PoWA 4).
    public var name: String
    /// The source function and `_tmp` table live in the schema of the
    /// extension called `name` rather than in powa's.
    public var external: Bool
    /// The remote function returning the data (called with `0`); nil means
    /// nothing to collect remotely.
    public var querySource: String?
    /// SQL to run on the remote after the source query, even when it failed;
    /// may hold `{extension}` placeholders for schemas.
    public var queryCleanup: String?
    /// The repository function that integrates the data, for messages.
    public var functionName: String
    /// The extension the source function reads from on the remote (PoWA
    /// 4.1's `extname`; nil when unknown). PoWA 4 keeps every source
    /// function in powa's schema, so a missing pg_wait_sampling would
    /// otherwise only show as an obscure SQL error from inside powa.
    public var requiredExtension: String?

    public init(
        name: String, external: Bool, querySource: String?, queryCleanup: String?, functionName: String,
        requiredExtension: String? = nil
    ) {
        self.name = name
        self.external = external
        self.querySource = querySource
        self.queryCleanup = queryCleanup
        self.requiredExtension = requiredExtension
        self.functionName = functionName
    }

    public init(row values: [String?]) throws(RowDecodingError) {
        let row = try TextRow(values, columns: Self.columns)
        self.init(
            name: try row.string(0), external: try row.bool(1), querySource: row.optionalString(2),
            queryCleanup: row.optionalString(3), functionName: try row.string(4),
            requiredExtension: row.optionalString(5))
    }

    /// The extension whose schema holds the source function (remote) and
    /// the `_tmp` table (repository).
    public var schemaExtension: String { external ? name : "powa" }
}
