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

    /// When the last line went out (monotonic clock).
    var lastLineSentAt: Double { current.withLock { $0.lastLineSentAt } }

    /// Applies `change`; sends the new status when anything changed.
    func update(_ change: (inout WorkerStatus) -> Void) {
        update(after: nil, change)
    }

    /// Sends `message` (a slot's release), then applies `change` and sends
    /// the new status when anything changed, in one write: the supervisor
    /// wakes once for both, not once for each.
    func update(after message: WorkerMessage?, _ change: (inout WorkerStatus) -> Void) {
        current.withLock { reported in
            let before = reported.status
            change(&reported.status)
            var lines = message?.line() ?? []
            if reported.status != before { lines += WorkerMessage.status(reported.status).line() }
            if !lines.isEmpty { reported.send(lines) }
            if reported.status.snapshotRunning != before.snapshotRunning { controlWake.wake() }
        }
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
