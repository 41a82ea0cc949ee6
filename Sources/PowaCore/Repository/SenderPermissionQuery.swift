/// The SQL that decides whether the role behind a notification may ask
/// anything of the collector, following the reference's rules.
///
/// The sender is known only by its backend pid (it comes with the
/// notification), so every variant looks the role up with
/// `pg_stat_get_activity(pid)`: the one backend's row, without planning the
/// `pg_stat_activity` view's joins (a third of the cost of an answer).
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
        let check = condition(
            senderPID: senderPID, serverVersionNum: serverVersionNum, powaVersion: powaVersion,
            powaSchema: powaSchema, firstParameter: 1)
        return SQLStatement(check.text, parameters: check.parameters)
    }

    /// Checks the sender and answers it in one statement, one round trip
    /// instead of two: `pg_notify(channel, permitted ? answer : denied)`.
    /// Returns one row whose only column says whether the sender was
    /// permitted (read it with `isPermitted`).
    public static func answerIfPermitted(
        senderPID: Int32, serverVersionNum: Int, powaVersion: PowaVersion, powaSchema: String,
        channel: String, answer: String, denied: String
    ) -> SQLStatement {
        let check = condition(
            senderPID: senderPID, serverVersionNum: serverVersionNum, powaVersion: powaVersion,
            powaSchema: powaSchema, firstParameter: 4)
        return SQLStatement(
            "SELECT c.permitted, pg_catalog.pg_notify($1, CASE WHEN c.permitted THEN $2 ELSE $3 END)"
                + " FROM (SELECT COALESCE((\(check.text)), false) AS permitted) c",
            parameters: [channel, answer, denied] + check.parameters)
    }

    /// The check as one boolean query whose parameters are numbered from
    /// `firstParameter`.
    private static func condition(
        senderPID: Int32, serverVersionNum: Int, powaVersion: PowaVersion, powaSchema: String, firstParameter: Int
    ) -> (text: String, parameters: [String?]) {
        let predefinedRoles = serverVersionNum >= 140000 ? [postgresRole] : []
        let pid = String(senderPID)
        let p = (0..<3).map { "$\(firstParameter + $0)" }
        if powaVersion.major >= 5 {
            return (
                "WITH s(v) AS ("
                    + " SELECT pg_catalog.unnest(\(p[0])::text[])"
                    + " UNION ALL"
                    + " SELECT rolname::text FROM \(powaSchema).powa_roles WHERE powa_role = ANY (\(p[1])::text[])"
                    + ") SELECT pg_catalog.bool_or(pg_catalog.pg_has_role(a.usesysid, s.v, 'USAGE'))"
                    + " FROM pg_catalog.pg_stat_get_activity(\(p[2])) a CROSS JOIN s",
                [TextArrayLiteral.encode(predefinedRoles), TextArrayLiteral.encode(powaRoles), pid]
            )
        }
        if !predefinedRoles.isEmpty {
            return (
                "SELECT pg_catalog.bool_or(pg_catalog.pg_has_role(a.usesysid, s.v, 'USAGE'))"
                    + " FROM pg_catalog.pg_stat_get_activity(\(p[1])) a"
                    + " CROSS JOIN pg_catalog.unnest(\(p[0])::text[]) AS s(v)",
                [TextArrayLiteral.encode(predefinedRoles), pid]
            )
        }
        // Neither predefined roles nor PoWA 5 roles: whoever may write
        // PoWA's data may ask the collector.
        return (
            "SELECT pg_catalog.has_table_privilege(a.usesysid, \(p[0]), 'INSERT')"
                + " FROM pg_catalog.pg_stat_get_activity(\(p[1])) a",
            ["\(powaSchema).powa_statements", pid]
        )
    }

    /// Reads the query's result: permitted only on a single `true`.
    public static func isPermitted(_ rows: [[String?]]) -> Bool {
        guard let first = rows.first, let value = first.first else { return false }
        return value == "t" || value == "true"
    }
}
