import Glibc
import PowaCore
import TestSupport
import Testing

/// The supervisor's commands to a running worker: force_snapshot,
/// refresh_catalogs, reload and update_versions.
@Suite(.enabled(if: TestEnvironment.isAvailable, "needs scripts/pg-env.sh (run scripts/test)"))
struct WorkerCommandTests {
    @Test func forcedSnapshotRunsAtOnceAndWaitsTenSecondsAfterTheLast() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.13", frequency: 3600)
        let worker = try WorkerProcess()
        // A long period: the first regular snapshot is spread over the next hour.
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 3600, host: "127.0.0.13")))
        #expect(worker.waitForStatus(timeout: 5) { $0.status == WorkerStatusText.running } != nil)
        try worker.send(.forceSnapshot)
        let first = worker.waitForStatus(timeout: 10) { $0.snapshotsTaken == 1 && !$0.snapshotRunning }
        #expect(first != nil, "log:\n\(worker.log)")
        // Too soon after the first: not now, but once ten seconds have
        // passed, since the supervisor told powa-web it would happen.
        try worker.send(.forceSnapshot)
        worker.drain(for: 2)
        #expect(worker.statuses.last?.snapshotsTaken == 1)
        #expect(worker.log.contains("Forced snapshot deferred"))
        let second = worker.waitForStatus(timeout: 12) { $0.snapshotsTaken == 2 && !$0.snapshotRunning }
        #expect(second != nil, "log:\n\(worker.log)")
        let times = try fixture.snapshotTimes(srvid: srvid)
        #expect(times.count == 2)
        if times.count == 2 { #expect(times[1] - times[0] >= 9.9, "\(times[1] - times[0]) s apart") }
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }

    @Test(arguments: PowaRelease.powa5)
    func forcedCatalogRefreshImportsCatalogsAgain(release: PowaRelease) throws {
        let fixture = try PowaRepositoryFixture(release: release)
        let srvid = try fixture.registerServer(host: "127.0.0.14", frequency: 3600)
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 3600, host: "127.0.0.14")))
        #expect(worker.waitForStatus(timeout: 5) { $0.status == WorkerStatusText.running } != nil)
        try worker.send(.forceSnapshot)
        #expect(worker.waitForStatus(timeout: 15) { $0.snapshotsTaken == 1 && !$0.snapshotRunning } != nil)
        let catalogs = "SELECT count(*) FROM powa_catalog_class WHERE srvid = $1"
        #expect(try fixture.count(catalogs, [String(srvid)]) > 0)
        // Forget the imported catalogs; a normal snapshot would not bring
        // them back for a year, a forced refresh does.
        try fixture.query("DELETE FROM powa_catalog_class WHERE srvid = $1", [String(srvid)])
        usleep(10_200_000)
        try worker.send(.refreshCatalogs(dbnames: ["powa"]))
        try worker.send(.forceSnapshot)
        let second = worker.waitForStatus(timeout: 15) { $0.snapshotsTaken == 2 && !$0.snapshotRunning }
        #expect(second?.lastError == nil, "log:\n\(worker.log)")
        #expect(try fixture.count(catalogs, [String(srvid)]) > 0)
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }

    @Test func reloadWithNewConnectionParametersReconnects() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.15")
        let worker = try WorkerProcess()
        // Wrong port first: no connection.
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, host: "127.0.0.15", port: 1)))
        #expect(
            worker.waitForStatus(timeout: 5) { $0.status == WorkerStatusText.noRemoteConnection && $0.lastError != nil }
                != nil)
        try worker.send(.reload(fixture.workerConfiguration(srvid: srvid, host: "127.0.0.15")))
        #expect(
            worker.waitForStatus(timeout: 5) { $0.status == WorkerStatusText.running } != nil, "log:\n\(worker.log)")
        #expect(worker.waitForStatus(timeout: 15) { $0.snapshotsTaken >= 1 && !$0.snapshotRunning } != nil)
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }

    @Test func updateVersionsRecordsTheRemotesVersionsAgain() throws {
        let fixture = try PowaRepositoryFixture(powaMajor: 4)
        let srvid = try fixture.registerServer(host: "127.0.0.16", frequency: 3600)
        let worker = try WorkerProcess()
        try worker.send(.start(fixture.workerConfiguration(srvid: srvid, frequency: 3600, host: "127.0.0.16")))
        let version = "SELECT version FROM powa_servers WHERE id = $1"
        // The server's version and its extensions' are saved one after the
        // other: wait for both, or the next step races the first save.
        let hypopg =
            "SELECT count(*) FROM powa_extensions WHERE srvid = $1 AND extname = 'hypopg' AND version IS NOT NULL"
        let deadline = Monotonic.now() + 20
        while Monotonic.now() < deadline,
            try fixture.query(version, [String(srvid)]).first?[0] == nil || fixture.count(hypopg, [String(srvid)]) == 0
        {
            usleep(100_000)
        }
        #expect(try fixture.query(version, [String(srvid)]).first?[0]?.hasPrefix("15.") == true)
        try fixture.query("UPDATE powa_servers SET version = 'stale' WHERE id = $1", [String(srvid)])
        try fixture.query("UPDATE powa_extensions SET version = 'stale' WHERE srvid = $1", [String(srvid)])
        try worker.send(.updateVersions)
        let stale = "SELECT count(*) FROM powa_extensions WHERE srvid = $1 AND version = 'stale'"
        let again = Monotonic.now() + 20
        while Monotonic.now() < again,
            try fixture.query(version, [String(srvid)]).first?[0] == "stale"
                || fixture.count(stale, [String(srvid)]) > 0
        {
            usleep(100_000)
        }
        #expect(try fixture.query(version, [String(srvid)]).first?[0]?.hasPrefix("15.") == true)
        #expect(try fixture.count(stale, [String(srvid)]) == 0)
        #expect(
            try fixture.count(
                "SELECT count(*) FROM powa_extensions WHERE srvid = $1 AND extname = 'hypopg'", [String(srvid)]) == 1)
        try worker.send(.stop)
        _ = worker.waitForExit(timeout: 3)
    }
}
