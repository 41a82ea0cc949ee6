/// The `application_name` of each collector connection, as the reference
/// collector sets it, so that `pg_stat_activity` reads the same.
public enum ApplicationName {
    /// The supervisor's repository connection.
    public static func main(version: String) -> String { "PoWA collector - main thread (\(version))" }

    /// A worker's connections to its remote server, including per-database ones.
    public static func worker(_ name: String) -> String { "PoWA collector - worker \(name)" }

    /// A worker's connection to the repository.
    public static func repository(worker name: String) -> String {
        "PoWA collector - repo_conn for worker \(name)"
    }
}
