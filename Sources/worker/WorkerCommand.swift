import ArgumentParser
import CollectorLogging
import PowaCore
import ProcessSupport

/// `powa-collector-worker`: collects one server for as long as it runs.
///
/// Started by `powa-collector`, one per server. Its whole configuration,
/// passwords included, arrives as the first JSON line on stdin, never in
/// argv or the environment, which other local users can read.
@main
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "powa-collector-worker",
        abstract: "Collects one PoWA remote server; started by powa-collector.",
        discussion: """
            Reads JSON lines on stdin (a `start` line first, then reload, update_versions, \
            force_snapshot, refresh_catalogs, stop) and writes status and heartbeat lines on stdout. \
            Logs go to stderr.
            """,
        version: CollectorVersion.current)

    @Option(help: "Process id of the supervisor; the worker exits when it is not its parent any more.")
    var parentPid: Int32?

    static let defaultStartTimeout: Double = 30

    @Option(help: "Seconds to wait for the start line.")
    var startTimeout: Double = Self.defaultStartTimeout

    @Flag(
        name: .customLong(String(LauncherProtocol.launcherFlag.dropFirst(2))),
        help: "Fork workers on the supervisor's requests (stdin is its socket) instead of collecting.")
    var launcher = false

    /// The launcher's own command line (exactly what `WorkerLauncherClient`
    /// starts) is recognised before ArgumentParser runs: parsing builds
    /// metadata and caches in the heap that every fork would inherit and,
    /// by writing near them, copy. Anything else is parsed as usual.
    static func main() {
        let arguments = CommandLine.arguments
        if let parentPid = LauncherProtocol.launcherParentPID(in: arguments) {
            WorkerMemory.useOneArena()
            StderrLogHandler.bootstrap(threadName: "-", debug: false)
            // Returns only in a forked worker, its pipes in place.
            WorkerLauncher.serve(supervisorPID: parentPid)
            do {
                try WorkerMain.run(parentPid: parentPid, startTimeout: Self.defaultStartTimeout)
            } catch {
                Self.exit(withError: error)
            }
        }
        main(nil)
    }

    func validate() throws {
        if launcher, parentPid == nil { throw ValidationError("--launcher needs --parent-pid") }
    }

    func run() throws {
        // Before any thread: the launcher's forks inherit it.
        WorkerMemory.useOneArena()
        StderrLogHandler.bootstrap(threadName: "-", debug: false)
        if launcher, let parentPid {
            // Returns only in a forked worker, its pipes in place.
            WorkerLauncher.serve(supervisorPID: parentPid)
        }
        try WorkerMain.run(parentPid: parentPid, startTimeout: startTimeout)
    }
}
