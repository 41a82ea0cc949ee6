/// A worker process that was sent `stop` (its server was removed, or the
/// collector is shutting down) and is expected to exit.
struct RetiringWorkerProcess: Sendable {
    var srvid: Int
    var name: String
    /// When SIGKILL follows if it has not exited; nil once it was sent.
    var killAt: MonotonicInstant?
}
