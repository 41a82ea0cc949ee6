import Glibc
import Logging
import PowaCore
import ProcessSupport

/// Starts worker processes: forked by the worker launcher while one runs,
/// so that they share its loaded libraries, or with posix_spawn otherwise.
///
/// The launcher only saves memory; nothing depends on it. When it cannot
/// start, fails a request or dies, the worker is spawned directly, the
/// running workers (the supervisor's children either way) go on, and a new
/// launcher is tried at most every `relaunchInterval` seconds.
/// POWA_COLLECTOR_NO_LAUNCHER=1 in the environment turns it off.
final class WorkerSpawner {
    static let relaunchInterval = 30.0
    static let disablingVariable = "POWA_COLLECTOR_NO_LAUNCHER"
    /// argv[0] of every worker and of the launcher, as `ps` shows them.
    static let workerProgramName = "powa-collector-worker"

    private let executable: String
    private let logger: Logger
    private let clock: MonotonicClock
    private let launcherAllowed: Bool
    private var launcher: WorkerLauncherClient?
    private var lastLaunchAt: Double?

    init(executable: String, clock: MonotonicClock, logger: Logger) {
        self.executable = executable
        self.clock = clock
        self.logger = logger
        let disabled = getenv(Self.disablingVariable).map { String(cString: $0) }
        if disabled.map({ !$0.isEmpty && $0 != "0" }) == true {
            launcherAllowed = false
            logger.info("\(Self.disablingVariable) is set: workers are started with posix_spawn")
        } else if !WorkerLauncherClient.adoptOrphans() {
            launcherAllowed = false
            logger.warning("cannot become a child subreaper (errno \(errno)): workers are started with posix_spawn")
        } else {
            launcherAllowed = true
        }
    }

    /// Starts one worker. Only the supervisor's pid goes on its command
    /// line; its configuration, passwords included, goes through stdin.
    func spawn() throws(SystemError) -> ChildProcess {
        if let launcher = currentLauncher() {
            do {
                return try launcher.startWorker()
            } catch {
                logger.warning("the worker launcher failed (\(error)); starting this worker with posix_spawn")
                drop(launcher)
            }
        }
        return try ChildProcess.spawn(
            executable: executable,
            arguments: [Self.workerProgramName, LauncherProtocol.parentPIDOption, String(getpid())])
    }

    /// A child that was not a worker was reaped; returns whether it was the
    /// launcher (then forgotten: the next spawn starts another).
    func reaped(pid: pid_t) -> Bool {
        guard let launcher, launcher.pid == pid else { return false }
        launcher.close()
        self.launcher = nil
        return true
    }

    /// At shutdown: the launcher exits when its socket closes.
    func close() {
        launcher?.close()
        launcher = nil
    }

    private func currentLauncher() -> WorkerLauncherClient? {
        if let launcher { return launcher }
        guard launcherAllowed else { return nil }
        let now = clock.now()
        if let lastLaunchAt, now - lastLaunchAt < Self.relaunchInterval { return nil }
        lastLaunchAt = now
        do {
            let started = try WorkerLauncherClient.start(
                executable: executable, programName: Self.workerProgramName, supervisorPID: getpid())
            logger.debug("started the worker launcher (pid \(started.pid))")
            launcher = started
            return started
        } catch {
            logger.warning("cannot start the worker launcher (\(error)); starting workers with posix_spawn")
            return nil
        }
    }

    /// Stops using a launcher that misbehaved; `reaped` will see it go.
    private func drop(_ broken: WorkerLauncherClient) {
        _ = kill(broken.pid, SIGKILL)
        broken.close()
        launcher = nil
    }
}
