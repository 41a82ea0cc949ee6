/// The signals the supervisor sends to a worker process.
public enum WorkerSignal: Equatable, Sendable {
    /// SIGTERM: the worker cancels its statement, rolls back and exits.
    case terminate
    /// SIGKILL: for a worker that did not exit after SIGTERM or `stop`.
    case kill
}
