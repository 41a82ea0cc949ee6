/// How the supervisor reads the servers to collect from the repository's
/// `powa_servers` table, and how it reads the answer.
///
/// The query keeps the reference's filter (`id > 0 AND frequency > 0`, in
/// id order) so that the rows are the ones powa-web shows as collected;
/// `ServerRow.isCollected` checks the same rule again. Which of these
/// servers this collector runs is decided in one place only,
/// `ServerRow.workerConfigurations`, so that sharing servers between
/// several collectors later changes one function.
public enum ServerListQuery {
    /// Column order of `statement(powaSchema:)`.
    public static let columns = ["id", "hostname", "port", "username", "password", "dbname", "frequency", "alias"]

    /// - Parameter powaSchema: the schema of the repository's `powa`
    ///   extension, already quoted as an identifier. Naming it keeps the
    ///   query right under PoWA 5's `search_path = pg_catalog`.
    public static func statement(powaSchema: String) -> SQLStatement {
        SQLStatement(
            "SELECT id, hostname, port, username, password, dbname, frequency, alias"
                + " FROM \(powaSchema).powa_servers"
                + " WHERE id > 0 AND frequency > 0"
                + " ORDER BY id")
    }

    /// The rows of `statement(powaSchema:)`, as text values in column order.
    public static func serverRows(_ rows: [[String?]]) throws(RowDecodingError) -> [ServerRow] {
        var servers: [ServerRow] = []
        servers.reserveCapacity(rows.count)
        for values in rows {
            let row = try TextRow(values, columns: columns)
            servers.append(
                ServerRow(
                    id: try row.int(0), hostname: try row.string(1), port: try row.int(2),
                    username: try row.string(3), password: row.optionalString(4), dbname: try row.string(5),
                    frequency: try row.int(6), alias: row.optionalString(7)))
        }
        return servers
    }
}
