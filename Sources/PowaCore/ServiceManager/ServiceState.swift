/// Where the collector is in its life, as a service manager sees it. The
/// supervisor's state machine decides it (`SupervisorStateMachine
/// .serviceState`); the shell only reports its changes.
public enum ServiceState: Equatable, Sendable {
    /// Connecting to the repository and reading the first server list.
    case starting
    /// The server list is read and its workers were started.
    case ready
    /// A reload (SIGHUP or RELOAD) is re-reading the file and the list.
    case reloading
    /// Stopping the workers before exiting.
    case stopping
}
