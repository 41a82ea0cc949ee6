/// A request's command with its arguments checked.
public enum NotifyCommand: Equatable, Sendable {
    /// Re-read the configuration file and the server list.
    case reload
    /// Report the status of the workers.
    case workersStatus(WorkersStatusScope)
    /// Take a snapshot of one server now, if the rules allow.
    case forceSnapshot(srvid: Int)
    /// Refresh these databases' catalogs at the next snapshot; empty = all.
    case refreshCatalogs(srvid: Int, dbnames: [String])
    /// A command this collector does not know; answered `UNKNOWN`.
    case unknown

    /// Whether it only reads status (and so is answered in any phase).
    public var isWorkersStatus: Bool {
        if case .workersStatus = self { true } else { false }
    }

    /// Which workers a `WORKERS_STATUS` asks about.
    public enum WorkersStatusScope: Equatable, Sendable {
        case allServers
        case server(Int)
        /// An all-digit id too large for any server: the answer is `{}`,
        /// as for any server without a worker.
        case noServer
    }
}
