/// The extensions installed in the database of one connection, with their
/// schema and version: the result of `SessionSQL.installedExtensions`.
///
/// Read on both sides, it gives the schema of each datasource's functions
/// and tables, the powa version to check, and the remote versions to record.
/// Schemas are kept raw; they are quoted when SQL is built.
public struct InstalledExtensions: Equatable, Sendable {
    public struct Extension: Equatable, Sendable {
        public var name: String
        public var schema: String
        public var version: String

        public init(name: String, schema: String, version: String) {
            self.name = name
            self.schema = schema
            self.version = version
        }
    }

    /// Column order of `SessionSQL.installedExtensions`.
    public static let columns = ["extname", "nspname", "extversion"]

    public private(set) var byName: [String: Extension]

    public init(_ extensions: [Extension]) {
        byName = Dictionary(extensions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public init(rows: [[String?]]) throws(RowDecodingError) {
        var extensions: [Extension] = []
        for values in rows {
            let row = try TextRow(values, columns: Self.columns)
            extensions.append(Extension(name: try row.string(0), schema: try row.string(1), version: try row.string(2)))
        }
        self.init(extensions)
    }

    /// Extension name → raw schema name.
    public var schemas: [String: String] { byName.mapValues(\.schema) }

    /// Extension name → `extversion`.
    public var versions: [String: String] { byName.mapValues(\.version) }

    /// `extversion` of `powa`, nil when not installed.
    public var powaVersionText: String? { byName["powa"]?.version }
}
