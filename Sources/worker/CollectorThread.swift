import Logging
import PowaCore
import ProcessSupport

/// Starts the thread that does all of the worker's PostgreSQL work.
enum CollectorThread {
    /// libpq and our COPY loop need little stack; the default 8 MiB would
    /// only count against the worker's footprint.
    static let stackSize = 1 << 20

    /// Only Sendable values cross to the new thread; the `Collector` is built
    /// there and never leaves it.
    static func start(config: WorkerConfiguration, mailbox: CollectorMailbox, reporter: StatusReporter, logger: Logger)
    {
        do {
            try DetachedThread.start(stackSize: stackSize) {
                Collector(config: config, mailbox: mailbox, reporter: reporter, logger: logger).run()
                mailbox.markFinished()
                reporter.controlWake.wake()
            }
        } catch {
            logger.critical(
                "Cannot start the collector thread (\(error)); check the limits on processes and threads (ulimit -u, systemd TasksMax)"
            )
            WorkerExit.now(1)
        }
    }
}
