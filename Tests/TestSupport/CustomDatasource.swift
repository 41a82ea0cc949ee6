import PostgresClient

/// A datasource of our own making, registered in a PoWA 4 repository next
/// to the real ones: a remote source function with the given body, a `_tmp`
/// table and a snapshot function that empties it. Lets tests make a
/// datasource that sleeps, or one that returns hundreds of thousands of rows.
public struct CustomDatasource {
    public let querySource: String

    /// - Parameters:
    ///   - remoteBody: SQL returning rows of `(v int, filler text)`.
    ///   - remoteDatabase: the remote database the server is registered on.
    public init(
        fixture: PowaRepositoryFixture, srvid: Int, remote: TestCluster, remoteDatabase: String = "powa",
        remoteBody: String
    ) throws {
        querySource = "powa_test_\(UInt32.random(in: 0...UInt32.max))_src"
        let remoteConnection = try remote.connect(database: remoteDatabase)
        defer { remoteConnection.close() }
        try remoteConnection.executeSimple(
            """
            CREATE FUNCTION public.\(querySource)(_srvid integer) RETURNS TABLE (v integer, filler text)
            LANGUAGE sql AS $body$ \(remoteBody) $body$
            """)
        try fixture.query("CREATE TABLE public.\(querySource)_tmp (srvid integer, v integer, filler text)")
        try fixture.query(
            """
            CREATE FUNCTION public.\(querySource)_snapshot(_srvid integer) RETURNS void LANGUAGE sql
            AS $body$ DELETE FROM public.\(querySource)_tmp WHERE srvid = _srvid $body$
            """)
        try fixture.query(
            """
            INSERT INTO powa_functions (srvid, module, operation, function_name, query_source, added_manually,
                enabled, priority)
            VALUES ($1, $2, 'snapshot', $3, $2, true, true, 100)
            """, [String(srvid), querySource, querySource + "_snapshot"])
    }

    /// Drops the remote function (the repository database goes with the
    /// fixture).
    public func dropRemote(_ remote: TestCluster, database: String = "powa") {
        guard let connection = try? remote.connect(database: database) else { return }
        _ = try? connection.executeSimple("DROP FUNCTION IF EXISTS public.\(querySource)(integer)")
        connection.close()
    }
}
