/// How to reach one monitored server, as stored in `powa_servers`.
///
/// Kept as separate fields rather than a conninfo string so that every value
/// is escaped by one function (`ConnectionParameters` in PostgresClient)
/// and so that the password can be left out of anything printed.
public struct ServerConnectionParameters: Codable, Equatable, Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var dbname: String

    public init(host: String, port: Int, user: String, password: String?, dbname: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.dbname = dbname
    }

    /// A description safe for logs and status answers: the password, when
    /// there is one, is replaced by a placeholder.
    public var redactedDescription: String {
        var parts = ["host=\(host)", "port=\(port)", "user=\(user)", "dbname=\(dbname)"]
        if password != nil { parts.append("password=<REDACTED>") }
        return parts.joined(separator: " ")
    }
}
