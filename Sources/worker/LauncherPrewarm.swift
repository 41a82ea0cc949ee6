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
    static func run() {
        let server = ServerConnectionParameters(
            host: "127.0.0.1", port: 5432, user: "powa", password: "-", dbname: "powa")
        let config = WorkerConfiguration(
            srvid: 1, name: "127.0.0.1:5432", frequency: 300, server: server,
            repositoryDSN: "postgresql://powa@127.0.0.1/powa", debug: false, snapshotTimeout: 30)
        var lines = LineBuffer()
        for message in [SupervisorMessage.start(config), .reload(config), .updateVersions, .forceSnapshot,
                        .refreshCatalogs(dbnames: ["powa"]), .stop] {
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
        WorkerMemory.sealLauncherHeap()
    }
}
