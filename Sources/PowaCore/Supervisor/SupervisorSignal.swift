/// The signals the supervisor itself handles.
public enum SupervisorSignal: Equatable, Sendable {
    /// SIGHUP: reload the configuration and the server list.
    case hangup
    /// SIGTERM: stop every worker and exit 0.
    case terminate
    /// SIGINT (Ctrl-C): same as SIGTERM.
    case interrupt
}
