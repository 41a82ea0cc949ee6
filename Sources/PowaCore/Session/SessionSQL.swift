/// Statements that set up any collector connection, on either side.
///
/// On a new connection (`PowaSession.open`): `defaultLockTimeout`,
/// `copyTextSettings` (and `secureSearchPath` first on per-database remote
/// connections of a PoWA 5 server) with `installedExtensions` (gives the
/// powa version) in one message, then `loadPowa` when
/// `PowaVersion.needsLoad` and `secureSearchPath` when
/// `PowaVersion.usesSecureSearchPath`. The reference sets these in their own committed
/// transaction; run them outside the snapshot transaction.
public enum SessionSQL {
    /// Extension name, raw schema name, version of every installed extension.
    /// Columns: `InstalledExtensions.columns`.
    public static let installedExtensions = """
        SELECT e.extname, n.nspname, e.extversion \
        FROM pg_catalog.pg_extension e \
        JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
        """

    /// For PoWA 4.0 only.
    public static let loadPowa = "LOAD 'powa'"

    /// For PoWA 5: every name the collector uses is qualified.
    public static let secureSearchPath = "SET search_path TO 'pg_catalog'"

    /// A lock wait of at most 2 s, unless the server or role already has a
    /// lock_timeout: a snapshot must not queue forever behind a lock.
    public static let defaultLockTimeout = """
        SELECT pg_catalog.set_config(name, '2000', false) \
        FROM pg_catalog.pg_settings \
        WHERE name = 'lock_timeout' AND setting = '0'
        """

    /// Also needed on the repository after `powa_take_snapshot`, which
    /// renames the session as it goes.
    public static func setApplicationName(_ name: String) -> SQLStatement {
        SQLStatement("SELECT pg_catalog.set_config('application_name', $1, false)", parameters: [name])
    }

    /// Datasources travel as COPY text from one server to the other, so
    /// both sessions must print and read values the same way whatever each
    /// server's defaults: ISO dates, the default interval style, and
    /// floats printed exactly. (The client encoding, UTF8 on both sides, is
    /// set when connecting.)
    public static let copyTextSettings =
        "SET datestyle TO 'ISO, YMD'; SET intervalstyle TO 'postgres'; SET extra_float_digits TO 3"

    public static let begin = "BEGIN"
    public static let commit = "COMMIT"
    public static let rollback = "ROLLBACK"
}
