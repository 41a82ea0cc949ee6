/// Which side of a snapshot a statement, version or error is about.
public enum ServerRole: String, Equatable, Sendable, CustomStringConvertible {
    /// The database holding PoWA's history, where snapshots are written.
    case repository
    /// The monitored server the data is read from.
    case remote

    /// "repository server" or "remote server", as used in error texts.
    public var description: String {
        switch self {
        case .repository: "repository server"
        case .remote: "remote server"
        }
    }
}
