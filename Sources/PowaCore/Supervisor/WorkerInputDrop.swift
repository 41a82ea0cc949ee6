/// Why a message for a worker was not queued on its stdin.
public enum WorkerInputDrop: Equatable, Sendable {
    /// The process was reaped already.
    case processGone
    /// Its stdin is closed (it is exiting).
    case inputClosed
    /// Its stdin buffer is full: the worker is not reading.
    case overflow
}
