import Glibc
import PowaCore
import ProcessSupport
import Synchronization

/// Writes the worker's JSON lines on stdout: a `status` line whenever the
/// status changes, and heartbeats. Both threads write through it, one whole
/// line per `write`, under one lock.
final class StatusReporter: Sendable {
    private let current: Mutex<Reported>

    /// The status, and when the last line of any kind went out: every line
    /// tells the supervisor the worker is alive, so a heartbeat is only
    /// due an interval after the last line, not after the last heartbeat.
    private struct Reported {
        var status: WorkerStatus
        var lastLineSentAt = SystemClock.now()

        mutating func send(_ message: WorkerMessage) {
            send(message.line())
        }

        mutating func send(_ lines: [UInt8]) {
            StatusReporter.write(lines)
            lastLineSentAt = SystemClock.now()
        }
    }
    /// Told when `snapshotRunning` changes, which the control loop waits on.
    let controlWake: ControlLoopWake
    /// When the running snapshot got its repository slot (wall clock): its
    /// budget counts from there. A snapshot waiting its turn on an
    /// overloaded machine is not a frozen server, and cancelling it for the
    /// wait threw away the slot it had just been granted.
    private let budgetStart = Mutex<Double?>(nil)

    init(initial: WorkerStatus) throws(SystemError) {
        current = Mutex(Reported(status: initial))
        controlWake = try ControlLoopWake()
    }

    var status: WorkerStatus { current.withLock { $0.status } }

    /// What the control loop's timing depends on, in one lock and without
    /// copying the status's strings: when the last line went out, and
    /// whether a snapshot is running.
    var lineTiming: (lastLineSentAt: Double, snapshotRunning: Bool) {
        current.withLock { ($0.lastLineSentAt, $0.status.snapshotRunning) }
    }

    /// Applies `change`; sends the new status when anything changed.
    func update(_ change: (inout WorkerStatus) -> Void) {
        update(after: nil, change)
    }

    /// Sends `message` (a slot's release), then applies `change` and sends
    /// the new status when anything changed, then `following` (a slot's
    /// request), in one write: the supervisor wakes once for all, not once
    /// for each.
    func update(
        after message: WorkerMessage?, then following: WorkerMessage? = nil, _ change: (inout WorkerStatus) -> Void
    ) {
        let runningChanged = current.withLock { reported in
            let before = reported.status
            change(&reported.status)
            var lines = message?.line() ?? []
            if reported.status != before { lines += WorkerMessage.status(reported.status).line() }
            if let following { lines += following.line() }
            if !lines.isEmpty { reported.send(lines) }
            return reported.status.snapshotRunning != before.snapshotRunning
        }
        // Woken after the lock is let go: woken inside it, the control loop
        // ran at once into the held lock and spun on it (perf: 2% of a
        // worker's CPU in the mutex's slow path).
        if runningChanged { controlWake.wake() }
    }

    /// The running snapshot starts using its connections now (nil: it ended).
    func startBudget(at start: Double?) { budgetStart.withLock { $0 = start } }

    var budgetStartedAt: Double? { budgetStart.withLock { $0 } }

    func heartbeat() {
        current.withLock { $0.send(.heartbeat) }
    }

    /// `slot_request` / `slot_release` (admission to the repository).
    func send(_ message: WorkerMessage) {
        current.withLock { $0.send(message) }
    }

    /// Sends the current status again (the supervisor just started us).
    func announce() {
        current.withLock { $0.send(.status($0.status)) }
    }

    /// A failed write means the supervisor is gone: nobody will ever read
    /// us again, so the worker ends (its transaction, if any, is rolled back
    /// by the server when the connection closes).
    fileprivate static func write(_ line: [UInt8]) {
        do {
            try FileDescriptorIO.writeAll(1, line)
        } catch {
            _exit(0)
        }
    }
}
