/// The per-database copies to run in one remote database (PoWA 5), over a
/// connection opened to that database for the purpose.
public struct DatabaseWork: Equatable, Sendable {
    public var dbname: String
    /// Db modules first, in priority order, then catalogs. Never empty: a
    /// database without work gets no connection.
    public var copies: [CopyStep]

    public init(dbname: String, copies: [CopyStep]) {
        self.dbname = dbname
        self.copies = copies
    }
}
