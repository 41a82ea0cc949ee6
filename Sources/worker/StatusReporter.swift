import Glibc
import PowaCore
import ProcessSupport
import Synchronization

/// Writes the worker's JSON lines on stdout: a `status` line whenever the
/// status changes, and heartbeats. Both threads write through it, one whole
/// line per `write`, under one lock.
final class StatusReporter: Sendable {
    private let current: Mutex<WorkerStatus>
    /// Told when `snapshotRunning` changes, which the control loop waits on.
    let controlWake: ControlLoopWake
    /// When the running snapshot got its repository slot (wall clock): its
    /// budget counts from there. A snapshot waiting its turn on an
    /// overloaded machine is not a frozen server, and cancelling it for the
    /// wait threw away the slot it had just been granted.
    private let budgetStart = Mutex<Double?>(nil)

    init(initial: WorkerStatus) throws(SystemError) {
        current = Mutex(initial)
        controlWake = try ControlLoopWake()
    }

    var status: WorkerStatus { current.withLock { $0 } }

    /// Applies `change`; sends the new status when anything changed.
    func update(_ change: (inout WorkerStatus) -> Void) {
        current.withLock { status in
            let before = status
            change(&status)
            if status != before { Self.send(.status(status)) }
            if status.snapshotRunning != before.snapshotRunning { controlWake.wake() }
        }
    }

    /// The running snapshot starts using its connections now (nil: it ended).
    func startBudget(at start: Double?) { budgetStart.withLock { $0 = start } }

    var budgetStartedAt: Double? { budgetStart.withLock { $0 } }

    func heartbeat() {
        current.withLock { _ in Self.send(.heartbeat) }
    }

    /// `slot_request` / `slot_release` (admission to the repository).
    func send(_ message: WorkerMessage) {
        current.withLock { _ in Self.send(message) }
    }

    /// Sends the current status again (the supervisor just started us).
    func announce() {
        current.withLock { Self.send(.status($0)) }
    }

    /// A failed write means the supervisor is gone: nobody will ever read
    /// us again, so the worker ends (its transaction, if any, is rolled back
    /// by the server when the connection closes).
    private static func send(_ message: WorkerMessage) {
        let line = message.line()
        do {
            try FileDescriptorIO.writeAll(1, line)
        } catch {
            _exit(0)
        }
    }
}
