/// How a worker process ended, as `waitpid` reported it.
public enum WorkerTermination: Equatable, Sendable, CustomStringConvertible {
    /// Exited on its own with this status.
    case exited(status: Int32)
    /// Ended by this signal (SIGKILL from the OOM killer, SIGSEGV…).
    case killedBySignal(Int32)

    /// The words status answers and logs use, e.g. `killed by signal 9`.
    public var description: String {
        switch self {
        case .exited(let status): "exited with status \(status)"
        case .killedBySignal(let signal): "killed by signal \(signal)"
        }
    }
}
