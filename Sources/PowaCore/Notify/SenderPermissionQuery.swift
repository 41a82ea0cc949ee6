/// The SQL that decides whether the role behind a notification may ask
/// anything of the collector, following the reference's rules.
///
/// The sender is known only by its backend pid (it comes with the
/// notification), so every variant looks the role up in `pg_stat_activity`.
/// The query returns one boolean, or no row / NULL when the backend is gone;
/// anything but `true`, and any error, means "not permitted".
public enum SenderPermissionQuery {
    /// Members of this predefined role (PostgreSQL 14 and later) may ask.
    public static let postgresRole = "pg_signal_backend"
    /// On PoWA 5, members of the roles that `powa_roles` maps these to may ask.
    public static let powaRoles = ["powa_signal_backend", "powa_write_all_data", "powa_admin"]

    /// - Parameters:
    ///   - senderPID: the notifying backend's pid.
    ///   - serverVersionNum: the repository's `server_version_num`.
    ///   - powaVersion: the repository's powa version.
    ///   - powaSchema: the powa extension's schema, already quoted.
    public static func statement(
        senderPID: Int32, serverVersionNum: Int, powaVersion: PowaVersion, powaSchema: String
    ) -> SQLStatement {
        let predefinedRoles = serverVersionNum >= 140000 ? [postgresRole] : []
        let pid = String(senderPID)
        if powaVersion.major >= 5 {
            return SQLStatement(
                "WITH s(v) AS ("
                    + " SELECT pg_catalog.unnest($1::text[])"
                    + " UNION ALL"
                    + " SELECT rolname::text FROM \(powaSchema).powa_roles WHERE powa_role = ANY ($2::text[])"
                    + ") SELECT pg_catalog.bool_or(pg_catalog.pg_has_role(a.usesysid, s.v, 'USAGE'))"
                    + " FROM pg_catalog.pg_stat_activity a CROSS JOIN s WHERE a.pid = $3",
                parameters: [TextArrayLiteral.encode(predefinedRoles), TextArrayLiteral.encode(powaRoles), pid])
        }
        if !predefinedRoles.isEmpty {
            return SQLStatement(
                "SELECT pg_catalog.bool_or(pg_catalog.pg_has_role(a.usesysid, s.v, 'USAGE'))"
                    + " FROM pg_catalog.pg_stat_activity a"
                    + " CROSS JOIN pg_catalog.unnest($1::text[]) AS s(v) WHERE a.pid = $2",
                parameters: [TextArrayLiteral.encode(predefinedRoles), pid])
        }
        // Neither predefined roles nor PoWA 5 roles: whoever may write
        // PoWA's data may ask the collector.
        return SQLStatement(
            "SELECT pg_catalog.has_table_privilege(a.usesysid, $1, 'INSERT')"
                + " FROM pg_catalog.pg_stat_activity a WHERE a.pid = $2",
            parameters: ["\(powaSchema).powa_statements", pid])
    }

    /// Reads the query's result: permitted only on a single `true`.
    public static func isPermitted(_ rows: [[String?]]) -> Bool {
        guard let first = rows.first, let value = first.first else { return false }
        return value == "t" || value == "true"
    }
}
