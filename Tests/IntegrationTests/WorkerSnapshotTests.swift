import Glibc
import PowaCore
import TestSupport
import Testing

/// A real worker process collecting a real remote into a real repository,
/// on PoWA 4.1, 5.0 and 5.3.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct WorkerSnapshotTests {
    @Test(arguments: PowaRelease.allCases)
    func snapshotFillsEveryDatasourceWithoutErrors(release: PowaRelease) throws {
        let fixture = try PowaRepositoryFixture(release: release)
        let srvid = try fixture.registerServer(host: "127.0.0.2")
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, host: "127.0.0.2")))

        let status = worker.waitForStatus(timeout: 20) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
        #expect(status != nil, "no snapshot; log:\n\(worker.log)")
        #expect(status?.status == WorkerStatusText.running)
        #expect(status?.lastError == nil)
        #expect(try fixture.errors(srvid: srvid) == nil)
        #expect(try fixture.count("SELECT count(*) FROM powa_statements WHERE srvid = $1", [String(srvid)]) > 0)
        #expect(
            try fixture.count("SELECT count(*) FROM powa_statements_history_current WHERE srvid = $1", [String(srvid)])
                > 0)
        #expect(
            try fixture.count(
                "SELECT count(*) FROM powa_stat_bgwriter_history_current WHERE srvid = $1", [String(srvid)]) == 1)
        #expect(
            try fixture.count("SELECT count(*) FROM powa_kcache_metrics_current WHERE srvid = $1", [String(srvid)]) > 0)
        #expect(try fixture.count("SELECT count(*) FROM pg_track_settings_list WHERE srvid = $1", [String(srvid)]) > 0)
        #expect(try fixture.leftoverTemporaryRows(srvid: srvid) == 0)
        // The remote's server version is recorded.
        #expect(
            try fixture.query("SELECT version FROM powa_servers WHERE id = $1", [String(srvid)]).first?[0]?.hasPrefix(
                "15.") == true)
        if release.major >= 5 {
            // Per-database catalogs, through a connection to each database.
            #expect(try fixture.count("SELECT count(*) FROM powa_catalog_class WHERE srvid = $1", [String(srvid)]) > 0)
            // A source whose rows changed shape in 5.1 (activity's clock_ts).
            #expect(
                try fixture.count(
                    "SELECT count(*) FROM powa_stat_activity_history_current WHERE srvid = $1", [String(srvid)]) > 0)
        }
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }

    @Test func threeSnapshotsLandOnePeriodApart() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.3")
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.3")))
        let status = worker.waitForStatus(timeout: 25) { $0.snapshotsTaken >= 3 && !$0.snapshotRunning }
        #expect(status != nil, "log:\n\(worker.log)")
        let times = try fixture.snapshotTimes(srvid: srvid)
        #expect(times.count >= 3)
        for (earlier, later) in zip(times, times.dropFirst()) {
            let gap = later - earlier
            #expect(abs(gap - 5) <= 0.5, "snapshots \(gap) s apart")
        }
        try worker.send(.stop)
        #expect(worker.waitForExit(timeout: 3) == .exited(0))
    }

    @Test func restartedWorkerKeepsTheRepositorysGrid() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.4")
        let first = try WorkerProcess()
        try first.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.4")))
        #expect(first.waitForStatus(timeout: 15) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning } != nil)
        try first.send(.stop)
        #expect(first.waitForExit(timeout: 3) == .exited(0))
        // A new worker reads snapts and snapshots one period after it,
        // instead of spreading at random or starting at once.
        let second = try WorkerProcess()
        try second.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.4")))
        #expect(second.waitForStatus(timeout: 15) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning } != nil)
        let times = try fixture.snapshotTimes(srvid: srvid)
        #expect(times.count == 2)
        if times.count == 2 { #expect(abs(times[1] - times[0] - 5) <= 0.5, "gap \(times[1] - times[0])") }
        try second.send(.stop)
        _ = second.waitForExit(timeout: 3)
    }

    @Test func aMissingExtensionCostsOnlyItsDatasource() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        // A remote database with powa but without pg_wait_sampling.
        let remoteDB = try fixture.remote.createRemoteDatabase(
            prefix: "nowait", extensions: ["pg_qualstats", "pg_stat_kcache", "pg_track_settings"])
        defer { fixture.remote.dropDatabase(remoteDB) }
        let srvid = try fixture.registerServer(host: "127.0.0.5", dbname: remoteDB)
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, host: "127.0.0.5", dbname: remoteDB)))
        let status = worker.waitForStatus(timeout: 20) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
        #expect(status?.lastError?.contains("pg_wait_sampling") == true)
        let errors = try fixture.errors(srvid: srvid) ?? []
        #expect(errors.count == 1)
        #expect(errors.first?.contains("Extension pg_wait_sampling is not installed on the remote server") == true)
        #expect(try fixture.count("SELECT count(*) FROM powa_statements WHERE srvid = $1", [String(srvid)]) > 0)
        #expect(
            try fixture.count("SELECT count(*) FROM powa_kcache_metrics_current WHERE srvid = $1", [String(srvid)]) > 0)
        #expect(try fixture.leftoverTemporaryRows(srvid: srvid) == 0)
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }

    /// Each remote's powa major.minor must equal the repository's: a PoWA 5
    /// repository pointed at a PoWA 4 remote, and 5.3 at 5.0 (same major).
    @Test(arguments: [(PowaRelease.powa50, PowaRelease.powa4), (.powa53, .powa4), (.powa53, .powa50)])
    func incompatiblePowaVersionsAreRecordedAndNothingIsCollected(repository: PowaRelease, remoteRelease: PowaRelease)
        throws
    {
        let fixture = try PowaRepositoryFixture(release: repository)
        let remote = remoteRelease.remote
        let srvid = try fixture.registerServer(host: "127.0.0.6", port: remote.port)
        let worker = try WorkerProcess()
        try worker.send(
            .start(fixture.workerConfiguration(srvid: srvid, frequency: 5, host: "127.0.0.6", port: remote.port)))
        let status = worker.waitForStatus(timeout: 20) {
            $0.lastError?.contains(remoteRelease.majorMinor) == true && !$0.snapshotRunning
        }
        #expect(status != nil, "log:\n\(worker.log)")
        let errors = try fixture.errors(srvid: srvid) ?? []
        #expect(
            errors.contains { $0.contains(repository.majorMinor) && $0.contains(remoteRelease.majorMinor) }, "\(errors)"
        )
        #expect(try fixture.count("SELECT count(*) FROM powa_statements WHERE srvid = $1", [String(srvid)]) == 0)
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }

    @Test func serversWithDifferentDateStylesAndEncodingsStillAgree() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let remoteDB = try fixture.remote.createRemoteDatabase(prefix: "dmy") { name in
            [
                "ALTER DATABASE \(name) SET datestyle = 'SQL, DMY'",
                "ALTER DATABASE \(name) SET intervalstyle = 'sql_standard'",
                "ALTER DATABASE \(name) SET timezone = 'Asia/Kolkata'",
            ]
        }
        defer { fixture.remote.dropDatabase(remoteDB) }
        try fixture.query("ALTER DATABASE \(fixture.database) SET datestyle = 'German, MDY'")
        let srvid = try fixture.registerServer(host: "127.0.0.12", dbname: remoteDB)
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, host: "127.0.0.12", dbname: remoteDB)))
        let status = worker.waitForStatus(timeout: 20) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning }
        #expect(status?.lastError == nil, "log:\n\(worker.log)")
        // The bgwriter row's timestamp is the real time of the snapshot.
        let times = try fixture.snapshotTimes(srvid: srvid)
        let now = Double(time(nil))
        #expect(times.count == 1)
        #expect(times.allSatisfy { abs($0 - now) < 60 }, "\(times) vs \(now)")
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }
}
