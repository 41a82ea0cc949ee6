import Glibc
import Logging
import PowaCore
import ProcessSupport

/// Runs once in the launcher, before any fork, the pure Swift work that
/// every worker does first: decoding its start line, encoding status and
/// heartbeat lines, formatting a log line (which loads the time zone).
///
/// The Swift runtime builds generic metadata, witness tables and its
/// protocol conformance cache on first use, in memory it allocates: done
/// here, those pages are the launcher's and every fork shares them,
/// instead of each worker building and keeping a private copy.
///
/// Nothing of libpq, Kerberos or TLS is touched here: their state would be
/// inherited by every worker (see `WorkerExit` for what their libraries
/// assume about threads and exit), and it is per connection anyway.
enum LauncherPrewarm {
    /// Warms up, then seals the heap once every value the warm-up made is
    /// freed: sealed before, the holes those values leave (the start line's
    /// JSON, the statements planned) were the first pieces each worker's
    /// allocations reused, and a worker writing in a launcher page copies it
    /// (seen with `scripts/worker-memory` and a page-by-page comparison of
    /// a worker's heap with the launcher's: 6 such pages a worker).
    static func run() {
        warmUp()
        WorkerMemory.sealLauncherHeap()
    }

    @inline(never)
    private static func warmUp() {
        let server = ServerConnectionParameters(
            host: "127.0.0.1", port: 5432, user: "powa", password: "-", dbname: "powa")
        let config = WorkerConfiguration(
            srvid: 1, name: "127.0.0.1:5432", frequency: 300, server: server,
            repositoryDSN: "postgresql://powa@127.0.0.1/powa", debug: false, snapshotTimeout: 30)
        var lines = LineBuffer()
        for message in [
            SupervisorMessage.start(config), .reload(config), .updateVersions, .forceSnapshot,
            .refreshCatalogs(dbnames: ["powa"]), .stop,
        ] {
            for item in lines.append(JSONLines.encode(message) + [UInt8(ascii: "\n")]) {
                if case .line(let line) = item { _ = try? JSONLines.decode(SupervisorMessage.self, from: line) }
            }
        }
        let status = WorkerStatus(
            status: WorkerStatusText.running, snapshotRunning: true, lastSnapshotStart: 1, lastSnapshotDuration: 1,
            lastError: "-", snapshotsTaken: 1)
        for message in [WorkerMessage.status(status), .heartbeat] {
            _ = try? WorkerMessage.decode(line: message.line().dropLast())
        }
        tzset()
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        _ = CollectorLogLine.format(
            time: .init(year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0),
            threadName: config.name, level: .info, message: "\(config.srvid) \(SystemClock.now())")
        Logger(label: "powa-collector-worker").debug("prewarmed")
        planSnapshots(srvid: config.srvid, name: config.name)
    }

    /// The pure planning of a snapshot and of a version update, on made-up
    /// rows, for both PoWA majors: the types a snapshot instantiates.
    private static func planSnapshots(srvid: Int, name: String) {
        var generator = SystemRandomNumberGenerator()
        var schedule = SnapshotSchedule(frequency: 300, lastSnapshot: nil, now: 0, using: &generator)
        _ = schedule.nextWakeUp(now: 0)
        _ = schedule.poll(now: 1_000)
        schedule.snapshotFinished(now: 1_001)
        let quote: (String) -> String = { "\"\($0)\"" }
        for text in ["4.1.4", "5.0.2"] {
            guard let version = try? PowaVersion.validated(extversion: text, on: .repository) else { continue }
            try? PowaVersion.checkCompatible(repository: version, remote: version)
            let sql = RepositorySQL(version: version, powaSchema: "public", quoteIdentifier: quote)
            _ = sql.globalDatasources(srvid: srvid)
            _ = sql.databaseModules(srvid: srvid, serverVersionNum: 150_000)
            _ = sql.catalogs(srvid: srvid, serverVersionNum: 150_000, forceRefresh: false)
            _ = sql.lastSnapshotTime(srvid: srvid)
            _ = sql.takeSnapshot(srvid: srvid)
            _ = sql.appendErrors(srvid: srvid, errors: ["-"])
            _ = sql.extensionVersions(srvid: srvid)
            _ = VersionSavePlan.steps(
                sql: sql, srvid: srvid, serverVersion: "15.0",
                recorded: [ExtensionVersionRow(extname: "powa", version: text)],
                remoteVersions: ["powa": text, "hypopg": "1.3.1"], hypopgAvailableVersion: "1.3.1")
            let datasource = DatasourceRow(
                name: "pg_stat_statements", external: false, querySource: "SELECT 1", queryCleanup: "SELECT 1",
                functionName: "powa_statements_src", requiredExtension: "pg_stat_statements")
            _ = SnapshotPlan.datasourceSteps(
                srvid: srvid, serverName: name,
                datasources: [datasource, try? DatasourceRow(row: [])].compactMap { $0 },
                remoteSchemas: ["powa": "public"], repositorySchemas: ["powa": "public"], quoteIdentifier: quote)
            _ = SnapshotPlan.perDatabasePlan(
                srvid: srvid, remoteDatabases: ["powa"],
                databaseModules: [
                    DbModuleRow(dbModule: "pg_stat_user_tables", querySource: "SELECT 1", tmpTable: "t", dbnames: nil)
                ],
                catalogs: [
                    CatalogRow(catname: "pg_class", querySource: "SELECT 1", tmpTable: "t", excludedDbnames: [])
                ],
                catalogRefresh: nil, remoteNow: "2026-01-01 00:00:00+00", quoteLiteral: quote)
        }
    }
}
