import Glibc
import Logging
import PowaCore
import ProcessSupport

/// The worker's main thread: reads the supervisor's lines and the signals,
/// sends heartbeats, watches the snapshot's time budget, and stops the
/// worker. It never touches PostgreSQL, so it stays responsive whatever the
/// collector thread is blocked on.
struct ControlLoop {
    let mailbox: CollectorMailbox
    let reporter: StatusReporter
    let logger: Logger
    var lines: LineBuffer
    /// Seconds a snapshot may run before its statements are cancelled.
    var snapshotBudget: Double

    /// Seconds between a stop and the forced exit, within the 2 s promise.
    static let stopGrace = 1.5
    /// Seconds the collector thread gets to return once its sockets are
    /// shut down at a stop.
    static let shutdownGrace = 0.05

    mutating func run() -> Never {
        var watchdog = SnapshotBudgetWatchdog()
        while true {
            let now = SystemClock.now()
            let timing = reporter.lineTiming
            // The interval the supervisor expects in the current state (a
            // snapshot's start shortens the wait at once), from the last
            // line of any kind: at the usual frequencies an idle worker's
            // snapshots speak for it and it sends no heartbeat at all.
            // A collector thread that did not come back even with its
            // sockets shut down is hung: silence lets the watchdog end it.
            if WorkerHeartbeatPlan.heartbeatDue(
                now: now, lastLineSentAt: timing.lastLineSentAt,
                snapshotRunning: timing.snapshotRunning, sendsHeartbeats: watchdog.sendsHeartbeats)
            {
                reporter.heartbeat()
            }
            if mailbox.isFinished { stop(reason: "collector ended") }

            var entries = [
                pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                pollfd(fd: SignalPipe.readFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: reporter.controlWake.readFD, events: Int16(POLLIN), revents: 0),
            ]
            // Idle, nothing is due before the next heartbeat: a snapshot's
            // start wakes the loop (`ControlLoopWake`). During a snapshot
            // the budget is watched every second.
            let waitTiming = reporter.lineTiming
            let wait = WorkerHeartbeatPlan.wait(
                now: SystemClock.now(), lastLineSentAt: waitTiming.lastLineSentAt,
                snapshotRunning: waitTiming.snapshotRunning, sendsHeartbeats: watchdog.sendsHeartbeats)
            let timeout = FileDescriptorIO.pollTimeout(seconds: wait)
            _ = try? FileDescriptorIO.poll(&entries, timeoutMilliseconds: timeout)
            if entries[2].revents != 0 { reporter.controlWake.drain() }

            if entries[1].revents != 0 {
                for signal in SignalPipe.drain() where signal == SIGTERM || signal == SIGINT {
                    stop(reason: signal == SIGTERM ? "SIGTERM" : "SIGINT")
                }
            }
            if entries[0].revents != 0 { readCommands() }

            // A snapshot past its budget: cancel, then cut the connections.
            // The budget counts from the repository slot, not the snapshot's start.
            let elapsed =
                reporter.lineTiming.snapshotRunning ? reporter.budgetStartedAt.map { SystemClock.wallNow() - $0 } : nil
            switch watchdog.observe(elapsed: elapsed, budget: snapshotBudget) {
            case nil:
                break
            case .cancelStatements:
                logger.warning(
                    "Snapshot running for \(Int(elapsed ?? 0)) s, over its \(Int(snapshotBudget)) s budget: cancelling it (raise snapshot_timeout if this server's snapshots legitimately take longer)"
                )
                mailbox.cancelInFlight()
            case .shutDownSockets:
                logger.warning(
                    "Server did not honour the cancel request: closing the connections (look at the remote server's pg_stat_activity and its log)"
                )
                mailbox.shutDownSockets()
            case .stopHeartbeats:
                // Silence lets the supervisor's watchdog end this worker.
                logger.error(
                    "The snapshot did not end with its connections closed: no more heartbeats, so the supervisor restarts this worker"
                )
            }
        }
    }

    private mutating func readCommands() {
        let outcome: FileDescriptorIO.ReadOutcome
        do {
            outcome = try FileDescriptorIO.read(0, maximum: WorkerMemory.stdinReadSize)
        } catch {
            stop(reason: "stdin failed: \(error)")
        }
        switch outcome {
        case .wouldBlock: return
        case .endOfFile: stop(reason: "end of stdin (supervisor gone)")
        case .bytes(let bytes):
            for item in lines.append(bytes) {
                switch item {
                case .overlong(let length):
                    logger.error(
                        "Ignored a \(length)-byte line from the supervisor: too long (install powa-collector and powa-collector-worker from the same build)"
                    )
                case .line(let line):
                    handle(line)
                }
            }
        }
    }

    private mutating func handle(_ line: [UInt8]) {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return }
        let message: SupervisorMessage
        do {
            message = try SupervisorMessage.decode(line: line)
        } catch {
            logger.error(
                "Ignored a malformed line from the supervisor: \(error) (install powa-collector and powa-collector-worker from the same build)"
            )
            return
        }
        switch message {
        case .stop: stop(reason: "asked by the supervisor")
        case .start: logger.error("Ignored a second start line")
        case .reload(let config):
            snapshotBudget = SnapshotBudget.seconds(for: config)
            mailbox.post(message)
        case .updateVersions, .forceSnapshot, .refreshCatalogs:
            mailbox.post(message)
        case .slotGranted:
            mailbox.grantSlot()
        }
    }

    /// Cancels the snapshot in flight, gives the collector thread a moment
    /// to roll back and close, then exits 0 with `WorkerExit` (the collector
    /// thread may still be inside libpq). Whatever is still open is closed
    /// by the exit, and the server rolls back an uncommitted transaction of
    /// a closed connection: a snapshot is committed whole or not at all.
    private func stop(reason: String) -> Never {
        logger.info("Stopping worker (\(reason))")
        reporter.update { $0.status = WorkerStatusText.stopping }
        mailbox.requestStop()
        if !mailbox.waitUntilFinished(seconds: Self.stopGrace) {
            mailbox.shutDownSockets()
            _ = mailbox.waitUntilFinished(seconds: Self.shutdownGrace)
        }
        logger.info("stopped")
        WorkerExit.now(0)
    }
}
