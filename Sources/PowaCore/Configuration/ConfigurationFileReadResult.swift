/// What reading one candidate configuration file gave. The shell produces it
/// (it does the I/O); the loader decides what it means.
public enum ConfigurationFileReadResult: Equatable, Sendable {
    case contents([UInt8])
    /// No file at that path (`ENOENT`, `ENOTDIR`): try the next location.
    case missing
    /// A file is there but reading it failed (permission, a directory…).
    case unreadable(reason: String)
}
