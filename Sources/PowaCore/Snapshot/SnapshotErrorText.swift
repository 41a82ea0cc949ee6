/// The texts a worker records in `powa_snapshot_metas.errors`, where
/// powa-web shows them, and logs. One place, so that both stay consistent.
/// `detail` is PostgreSQL's error message; none of these include passwords.
public enum SnapshotErrorText {
    public static func extensionMissing(_ extname: String, on role: ServerRole, serverName: String) -> String {
        switch role {
        case .remote: "Extension \(extname) is not installed on the remote server \(serverName)"
        case .repository: "Extension \(extname) is not installed on the repository server"
        }
    }

    public static func cleanupNeedsMissingExtension(datasource: String, extname: String, serverName: String) -> String {
        "Cleanup of datasource \(datasource) not run: it needs extension \(extname), "
            + "which is not installed on the remote server \(serverName)"
    }

    public static func cleanupMalformed(datasource: String, cleanup: String) -> String {
        "Cleanup of datasource \(datasource) not run: stray brace in \(cleanup)"
    }

    public static func noQuerySource(datasource: String) -> String {
        "No query_source for \(datasource), nothing to collect"
    }

    public static func sourceFailed(datasource: String, detail: String) -> String {
        "Error retrieving data of datasource \(datasource) from the remote server:\n\(detail)"
    }

    public static func cleanupFailed(cleanup: String, detail: String) -> String {
        "Error running cleanup \(cleanup):\n\(detail)"
    }

    public static func insertFailed(datasource: String, detail: String) -> String {
        "Error inserting data of datasource \(datasource) into the repository:\n\(detail)"
    }

    public static func databaseConnectionFailed(dbname: String, detail: String) -> String {
        "Could not connect to remote database \(dbname):\n\(detail)"
    }

    public static func takeSnapshotFailed(srvid: Int, detail: String) -> String {
        "Error in powa_take_snapshot for server \(srvid):\n\(detail)"
    }

    public static func notRegistered(srvid: Int) -> String {
        "Server \(srvid) is not correctly registered: it has no powa_snapshot_metas row"
    }
}
