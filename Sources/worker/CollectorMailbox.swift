import Glibc
import PostgresClient
import PowaCore
import ProcessSupport
import Synchronization

/// What the control thread (stdin, signals, heartbeats) and the collector
/// thread (blocking libpq work) share.
///
/// Commands queue here and a byte on a pipe wakes the collector from its
/// wait; the collector registers the connections it is using so that a
/// `stop` can cancel the statement in flight, or, when the server does not
/// even answer a cancel request, shut the sockets down under it.
final class CollectorMailbox: Sendable {
    struct State {
        var commands: [SupervisorMessage] = []
        var stopRequested = false
        /// The running snapshot went past its budget and was cancelled.
        var snapshotAborted = false
        var finished = false
        /// The supervisor answered the last `slot_request`.
        var slotGranted = false
        var connections: [Int: (canceller: PostgresCanceller, socket: Int32)] = [:]
        var nextToken = 0
    }

    private let state = Mutex(State())
    /// Read end: the collector polls it while waiting; write end: `post`.
    let wakeRead: Int32
    private let wakeWrite: Int32
    /// Readable once the collector thread has ended (one byte, never
    /// drained): a stopping control thread waits on it instead of polling
    /// a flag. (Its main loop learns of the end through `ControlLoopWake`.)
    let finishedFD: Int32
    private let finishedWrite: Int32

    init() throws(SystemError) {
        (wakeRead, wakeWrite) = try Self.nonBlockingPipe()
        (finishedFD, finishedWrite) = try Self.nonBlockingPipe()
    }

    private static func nonBlockingPipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SystemError(call: "pipe", errno: errno) }
        try FileDescriptorIO.setNonBlocking(fds[0])
        try FileDescriptorIO.setNonBlocking(fds[1])
        return (fds[0], fds[1])
    }

    func post(_ command: SupervisorMessage) {
        state.withLock { $0.commands.append(command) }
        wake()
    }

    /// Marks the worker as stopping and cancels whatever runs now.
    func requestStop() {
        let cancellers = state.withLock { state -> [PostgresCanceller] in
            state.stopRequested = true
            return state.connections.values.map(\.canceller)
        }
        wake()
        CancelRequests.send(cancellers)
    }

    var isStopping: Bool { state.withLock { $0.stopRequested } }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// The collector thread has returned: wakes a control thread waiting
    /// in `waitUntilFinished`.
    func markFinished() {
        state.withLock { $0.finished = true }
        var byte: UInt8 = 1
        _ = write(finishedWrite, &byte, 1)
    }

    /// Waits until the collector thread has ended, at most `seconds`;
    /// true when it has.
    func waitUntilFinished(seconds: Double) -> Bool {
        let deadline = SystemClock.now() + seconds
        while !isFinished {
            let left = deadline - SystemClock.now()
            if left <= 0 { return false }
            var entry = pollfd(fd: finishedFD, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, FileDescriptorIO.pollTimeout(seconds: left))
        }
        return true
    }

    /// Takes the queued commands.
    func takeCommands() -> [SupervisorMessage] {
        state.withLock { state in
            defer { state.commands.removeAll() }
            return state.commands
        }
    }

    /// Waits until a command arrives, stop is asked, or `seconds` pass.
    func wait(seconds: Double) {
        if state.withLock({ !$0.commands.isEmpty || $0.stopRequested }) { return }
        waitForWake(milliseconds: FileDescriptorIO.pollTimeout(seconds: seconds))
    }

    /// Sleeps on the wake pipe, then empties it.
    private func waitForWake(milliseconds: Int32) {
        var entry = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, milliseconds)
        var drain = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &drain, drain.count) > 0 {}
    }

    /// The control thread read `slot_granted`.
    func grantSlot() {
        state.withLock { $0.slotGranted = true }
        wake()
    }

    /// Forgets any grant, before a new `slot_request` goes out.
    func clearSlotGrant() { state.withLock { $0.slotGranted = false } }

    /// Waits for `slot_granted`; false when the worker is stopping first.
    /// Commands that arrive meanwhile stay queued for later.
    func waitForSlot() -> Bool {
        while true {
            let (granted, stopping) = state.withLock { ($0.slotGranted, $0.stopRequested) }
            if stopping { return false }
            if granted { return true }
            // `grantSlot` and `requestStop` both write the wake pipe; the
            // timeout only bounds a wake-up lost to a full pipe.
            waitForWake(milliseconds: 1000)
        }
    }

    /// Registers a connection the collector is about to block on; returns a
    /// token for `unregister`. A stop already asked cancels it at once.
    func register(_ connection: PostgresConnection) -> Int? {
        guard let canceller = try? connection.makeCanceller() else { return nil }
        let (token, stopping) = state.withLock { state -> (Int, Bool) in
            state.nextToken += 1
            state.connections[state.nextToken] = (canceller, connection.socket)
            return (state.nextToken, state.stopRequested)
        }
        if stopping { CancelRequests.send([canceller]) }
        return token
    }

    func unregister(_ token: Int?) {
        guard let token else { return }
        _ = state.withLock { $0.connections.removeValue(forKey: token) }
    }

    /// Cancels the statements in flight without stopping the worker (the
    /// snapshot ran past its time budget); the snapshot then rolls back.
    func cancelInFlight() {
        CancelRequests.send(
            state.withLock { state in
                state.snapshotAborted = true
                return state.connections.values.map(\.canceller)
            })
    }

    /// A new snapshot starts with a clean slate.
    func beginSnapshot() { state.withLock { $0.snapshotAborted = false } }

    /// Why the running snapshot must stop and roll back, if it must.
    var interruption: SnapshotInterruption? {
        state.withLock { $0.stopRequested ? .stopping : $0.snapshotAborted ? .overBudget : nil }
    }

    /// Last resort for a server that answers nothing, not even a cancel
    /// request: shutting the sockets down makes the blocked libpq call
    /// return at once with a broken connection.
    func shutDownSockets() {
        for socket in state.withLock({ $0.connections.values.map(\.socket) }) where socket >= 0 {
            _ = shutdown(socket, Int32(SHUT_RDWR))
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }
}

/// Sends cancel requests from a short-lived thread: `PQcancel` opens a new
/// connection to the server and would block the control loop, and with it
/// the heartbeats, if that server hangs.
enum CancelRequests {
    static func send(_ cancellers: [PostgresCanceller]) {
        guard !cancellers.isEmpty else { return }
        // Without a thread (limits reached) the statement runs on until its
        // statement_timeout, and a stop still ends the process.
        try? DetachedThread.start {
            for canceller in cancellers { canceller.cancelCurrentStatement() }
        }
    }
}
