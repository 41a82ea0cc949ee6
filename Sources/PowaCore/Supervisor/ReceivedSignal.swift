/// A signal the supervisor's shell read from its self-pipe, before it
/// becomes an event (or, for SIGCHLD, the reaping of children).
public enum ReceivedSignal: Equatable, Sendable {
    case supervisor(SupervisorSignal)
    /// SIGCHLD: children to reap.
    case childExited

    /// The order in which one batch is handled: stop and reload requests
    /// first, in the order they came, and child exits last, once: when
    /// systemd stops the whole control group, the launcher's and workers'
    /// deaths by the same SIGTERM must be seen as part of the shutdown, not
    /// as failures.
    public static func handlingOrder(_ signals: [ReceivedSignal]) -> [ReceivedSignal] {
        signals.filter { $0 != .childExited } + (signals.contains(.childExited) ? [.childExited] : [])
    }
}
