import Glibc
import Logging
import PostgresClient
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
        // Every field a supervisor sends, the fence of coordinated instances
        // included: decoding one that the warm-up did not have instantiates
        // its coding keys' containers in each worker.
        let config = WorkerConfiguration(
            srvid: 1, name: "127.0.0.1:5432", frequency: 300, server: server,
            repositoryDSN: "postgresql://powa@127.0.0.1/powa", debug: false, snapshotTimeout: 30,
            usesSnapshotSlots: true, fence: OwnershipFence(owner: "host:1:0123456789abcdef", epoch: 1, leaseSeconds: 60)
        )
        var lines = LineBuffer()
        for message in [
            SupervisorMessage.start(config), .reload(config), .updateVersions, .forceSnapshot,
            .refreshCatalogs(dbnames: ["powa"]), .stop, .slotGranted,
        ] {
            for item in lines.append(JSONLines.encode(message) + [UInt8(ascii: "\n")]) {
                if case .line(let line) = item { _ = try? JSONLines.decode(SupervisorMessage.self, from: line) }
            }
        }
        let status = WorkerStatus(
            status: WorkerStatusText.running, snapshotRunning: true, lastSnapshotStart: 1, lastSnapshotDuration: 1,
            lastError: "-", snapshotsTaken: 1, snapshotsFailed: 1, datasourceErrors: 1, rowsCopied: 1, bytesCopied: 1,
            lastSnapshotLateness: 1)
        for message in [WorkerMessage.status(status), .heartbeat, .slotRequest, .slotRelease] {
            _ = try? WorkerMessage.decode(line: message.line().dropLast())
        }
        tzset()
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        _ = CollectorLogLine.format(
            time: .init(year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0),
            threadName: config.name, level: .info, message: "\(config.srvid) \(SystemClock.now())")
        logOneLine()
        planSnapshots(srvid: config.srvid, name: config.name)
        for powa in [("4.1.4", "public"), ("5.0.2", "powa")] {
            driveSnapshot(config: config, powaVersion: powa.0, powaSchema: powa.1)
        }
        handleQueryResults()
        kept = []
    }

    /// One whole snapshot of `SnapshotRun`, the machine a worker's
    /// snapshots follow, answered as healthy connections would (one
    /// datasource with a cleanup, one database with a module, the fence):
    /// the commands, events, effects and results every snapshot builds.
    private static func driveSnapshot(config: WorkerConfiguration, powaVersion: String, powaSchema: String) {
        let quote: (String) -> String = { "\"\($0)\"" }
        let extensions = InstalledExtensions([.init(name: "powa", schema: powaSchema, version: powaVersion)])
        guard let version = PowaVersion(extversion: powaVersion) else { return }
        let sql = RepositorySQL(version: version, powaSchema: powaSchema, quoteIdentifier: quote)
        let srvid = config.srvid
        let fence = config.fence
        var run = SnapshotRun(
            SnapshotRun.Context(
                srvid: srvid, serverName: config.name,
                repositoryApplicationName: ApplicationName.repository(worker: config.name),
                repositoryExtensions: extensions, remoteServerVersionNum: 150_000, catalogRefresh: nil,
                budgetSeconds: 30, quoteIdentifier: quote, quoteLiteral: quote, fence: fence))
        var step = run.start()
        for _ in 0..<200 {
            var event: SnapshotRunEvent
            switch step.command {
            case .readRemoteExtensions:
                event = .remoteExtensionsRead(extensions)
            case .execute(let statement, _, _):
                event = .succeeded(rows: [])
                if statement == .parameterized(sql.globalDatasources(srvid: srvid)) {
                    event = .succeeded(rows: [
                        [
                            "pg_qualstats", "f", "powa_qualstats_src", "SELECT {pg_qualstats}.pg_qualstats_reset()",
                            "powa_qualstats_snapshot", nil,
                        ]
                    ])
                } else if statement == .parameterized(sql.takeSnapshot(srvid: srvid)) {
                    event = .succeeded(rows: [["0"]])
                } else if statement == .simple(RemoteSQL.now) {
                    event = .succeeded(rows: [["2026-01-01 00:00:00+00"]])
                } else if statement == .simple(RemoteSQL.databases) {
                    event = .succeeded(rows: [["powa"]])
                } else if let modules = sql.databaseModules(srvid: srvid, serverVersionNum: 150_000),
                    statement == .parameterized(modules)
                {
                    event = .succeeded(rows: [["pg_stat_all_tables", "SELECT 1", "powa_all_tables_src_tmp", nil]])
                } else if let fence, statement == .parameterized(CoordinationSQL.fence(srvid: srvid, fence)) {
                    event = .succeeded(rows: [["1"]])
                }
            case .copy:
                event = .copied(rows: 1, bytes: 1)
            case .openDatabase:
                event = .succeeded(rows: [])
            case .rollBack:
                event = .rolledBack(remoteHealthy: true, repositoryHealthy: true)
            case .finish(let result, let followUps):
                keep((result, followUps, step.effects))
                return
            }
            keep(step.effects)
            step = run.next(event, interruption: nil)
        }
    }

    /// Keeps a value alive until the end of the warm-up, as a worker keeps
    /// what it builds: the optimizer may drop a value nothing reads, and
    /// the metadata of its type with it.
    nonisolated(unsafe) private static var kept: [Any] = []

    @inline(never)
    private static func keep(_ value: Any) {
        kept.append(value)
    }

    /// One line through the real log handler (its metadata lookup, the
    /// message's interpolation), written to /dev/null instead of stderr.
    private static func logOneLine() {
        let saved = dup(2)
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard saved >= 0, null >= 0 else {
            if saved >= 0 { close(saved) }
            if null >= 0 { close(null) }
            return
        }
        _ = dup2(null, 2)
        close(null)
        Logger(label: "powa-collector-worker").info("prewarmed \(1) \(1.5)")
        _ = dup2(saved, 2)
        close(saved)
    }

    /// What the worker's libpq layer builds around libpq (C string arrays
    /// for a connect, a poll on a socket, rows of optional text with an
    /// index by column name, numbers parsed from text), on made-up values:
    /// nothing of libpq itself is called.
    private static func handleQueryResults() {
        let keys: [String] = ["host", "port"]
        let copies = keys.map { strdup($0) }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        pointers.withUnsafeBufferPointer { _ = $0.count }
        copies.forEach { free($0) }
        let pairs: [(String, String)] = [("host", "127.0.0.1"), ("port", "5432")]
        _ = pairs.map(\.0) + pairs.map(\.1)
        var descriptors = [pollfd(fd: -1, events: Int16(POLLIN), revents: 0)]
        _ = poll(&descriptors, 1, 0)
        var index: [String: Int] = [:]
        for (position, name) in ["srvid", "ts"].enumerated() where index[name] == nil { index[name] = position }
        var values: [String?] = []
        values.reserveCapacity(2)
        values.append(nil)
        values.append("1")
        var rows: [QueryResult.Row] = []
        rows.reserveCapacity(1)
        keep((rows, values, index, descriptors, Int("12"), Int64("12"), Double("1.5"), Int32("12")))
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
