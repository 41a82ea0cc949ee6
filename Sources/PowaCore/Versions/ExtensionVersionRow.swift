/// The version the repository has recorded for one extension of a server: a
/// row of `RepositorySQL.extensionVersions(srvid:)`.
public struct ExtensionVersionRow: Equatable, Sendable {
    public static let columns = ["extname", "version"]

    public var extname: String
    /// Nil until a collector has recorded it.
    public var version: String?

    public init(extname: String, version: String?) {
        self.extname = extname
        self.version = version
    }

    public init(row values: [String?]) throws(RowDecodingError) {
        let row = try TextRow(values, columns: Self.columns)
        self.init(extname: try row.string(0), version: row.optionalString(1))
    }
}
