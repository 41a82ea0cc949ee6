/// Why a worker is being restarted; shown in its status while it waits,
/// e.g. `restarting in 4 s (killed by signal 9)`.
public enum WorkerRestartReason: Equatable, Sendable, CustomStringConvertible {
    /// The process ended without being asked to.
    case terminated(WorkerTermination)
    /// The watchdog ended it: it sent nothing for this many seconds.
    case unresponsive(silentFor: Duration)
    /// The process could not even be started.
    case spawnFailed(String)

    public var description: String {
        switch self {
        case .terminated(let termination): termination.description
        case .unresponsive(let silence): "no message for \(silence.roundedSecondsText)"
        case .spawnFailed(let reason): "could not start: \(reason)"
        }
    }
}
