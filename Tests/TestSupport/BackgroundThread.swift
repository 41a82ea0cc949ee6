import Glibc
import PostgresClient
import ProcessSupport

/// Runs a closure once on a new thread after a delay: the tests' way to
/// act on a connection while the test's own thread is blocked in it.
public struct DelayedAction: Sendable {
    private let milliseconds: Int
    private let action: @Sendable () -> Void

    public init(milliseconds: Int, action: @escaping @Sendable () -> Void) {
        self.milliseconds = milliseconds
        self.action = action
    }

    public func start() {
        let milliseconds = milliseconds
        let action = action
        do {
            try DetachedThread.start {
                usleep(UInt32(milliseconds * 1000))
                action()
            }
        } catch {
            fatalError("Cannot start a test thread: \(error)")
        }
    }
}

/// Cancels the statement running on a connection after a delay.
public func cancelAfter(canceller: PostgresCanceller, milliseconds: Int) -> DelayedAction {
    DelayedAction(milliseconds: milliseconds) { canceller.cancelCurrentStatement() }
}

/// Terminates a backend from a separate superuser connection after a delay.
public func terminateAfter(cluster: TestCluster, database: String, pid: Int32, milliseconds: Int) -> DelayedAction {
    DelayedAction(milliseconds: milliseconds) {
        guard let admin = try? cluster.connect(database: database) else { return }
        _ = try? admin.execute("SELECT pg_terminate_backend($1)", [String(pid)])
        admin.close()
    }
}
