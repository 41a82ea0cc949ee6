/// Statements of `powa-collector check`. Values are parameters; the powa
/// schema is quoted by the caller.
public enum CheckSQL {
    /// Extensions configured and enabled for a server in the repository:
    /// each must be installed on the remote. Column: `extname`.
    /// PoWA 5 keeps them in `powa_extension_config`; PoWA 4.1 names the
    /// extension of each datasource in `powa_functions`; PoWA 4.0 lists
    /// them in `powa_extensions`.
    public static func configuredExtensions(powaSchema: String, version: PowaVersion, srvid: Int) -> SQLStatement {
        let text =
            version.major >= 5
            ? "SELECT extname::text FROM \(powaSchema).powa_extension_config WHERE srvid = $1 AND enabled"
            : version.minor >= 1
                ? "SELECT DISTINCT extname::text FROM \(powaSchema).powa_functions"
                    + " WHERE srvid = $1 AND operation = 'snapshot' AND enabled AND extname IS NOT NULL"
                : "SELECT extname::text FROM \(powaSchema).powa_extensions WHERE srvid = $1"
        return SQLStatement(text + " ORDER BY 1", parameters: [String(srvid)])
    }

    /// Source functions of a server's enabled snapshot datasources, which
    /// the remote role must be able to execute. Column: `query_source`.
    public static func datasourceFunctions(powaSchema: String, srvid: Int) -> SQLStatement {
        SQLStatement(
            "SELECT DISTINCT query_source::text FROM \(powaSchema).powa_functions"
                + " WHERE operation = 'snapshot' AND enabled AND srvid = $1 AND query_source IS NOT NULL",
            parameters: [String(srvid)])
    }

    /// On the remote: whether the role sees every backend's statistics
    /// (superuser or pg_read_all_stats, through pg_monitor too), and which
    /// of the named functions it cannot execute. Parameter: a text array.
    /// Columns: `reads_all_stats`, `not_executable`.
    public static let remotePrivileges = """
        SELECT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) \
        OR pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_all_stats, \
        (SELECT pg_catalog.string_agg(DISTINCT p.proname::text, ', ') FROM pg_catalog.pg_proc p \
        WHERE p.proname = ANY($1::text[]) \
        AND NOT pg_catalog.has_function_privilege(p.oid, 'EXECUTE')) AS not_executable
        """

    /// On the repository: may this role run `powa_take_snapshot`?
    /// Column: a boolean, NULL when the function does not exist.
    public static func canTakeSnapshot(powaSchema: String) -> SQLStatement {
        SQLStatement(
            "SELECT bool_or(pg_catalog.has_function_privilege(p.oid, 'EXECUTE'))"
                + " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE p.proname = 'powa_take_snapshot' AND n.nspname = $1",
            parameters: [powaSchema])
    }
}
