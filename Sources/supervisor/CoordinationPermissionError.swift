import PostgresClient

/// The repository refused the coordination schema to the collector's role
/// (SQLSTATE 42501). Its text is the whole remedy: an operator reading the
/// log must know what to grant, to which role, without reading the README.
struct CoordinationPermissionError: Error, CustomStringConvertible {
    /// The schema was missing and creating it was refused (rather than a
    /// statement on existing tables).
    var creating: Bool
    var database: String
    var role: String
    var cause: PostgresError

    var description: String {
        let schema = "powa_collector_coord"
        let refused =
            creating
            ? "role \(role) may not create schema \(schema) in database \(database)"
            : "role \(role) may not use the tables of schema \(schema) in database \(database)"
        let alternative =
            "GRANT USAGE ON SCHEMA \(schema) TO \(role); "
            + "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(schema) TO \(role)"
        let remedy =
            creating
            ? "run GRANT CREATE ON DATABASE \(database) TO \(role), or have a role that may create it "
                + "start the collector once (or create the schema), then \(alternative)"
            : "run \(alternative)"
        return "\(refused) (SQLSTATE 42501: \(cause.message)): \(remedy)"
    }
}
