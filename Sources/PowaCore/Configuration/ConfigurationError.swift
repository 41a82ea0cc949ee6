/// Why the configuration could not be loaded. Every case names the file, so
/// that the message alone tells the operator what to fix; the program exits
/// non-zero on any of them at startup, and keeps its previous configuration
/// when one happens on reload.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// None of the searched locations holds a file.
    case noConfigurationFile(searched: [String])
    /// The file exists (or was named with `--config`) but cannot be read.
    case unreadable(path: String, reason: String)
    case invalidJSON(path: String, JSONSyntaxError)
    /// The top-level value is not a JSON object.
    case notAnObject(path: String, found: String)
    /// `key` is a dotted path, like `repository.dsn`.
    case missingKey(path: String, key: String)
    case wrongType(path: String, key: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .noConfigurationFile(let searched):
            "no configuration file found; looked for \(searched.joined(separator: ", "))"
        case .unreadable(let path, let reason):
            "cannot read configuration file \(path): \(reason)"
        case .invalidJSON(let path, let error):
            "invalid JSON in configuration file \(path) at line \(error.line), column \(error.column): \(error.problem)"
        case .notAnObject(let path, let found):
            "configuration file \(path) must hold a JSON object, found \(found)"
        case .missingKey(let path, let key):
            "configuration file \(path) has no \(key) entry; it needs at least "
                + #"{"repository": {"dsn": "postgresql://user@host:5432/powa"}}"#
        case .wrongType(let path, let key, let expected, let found):
            "in configuration file \(path), \(key) must be \(expected), found \(found)"
        }
    }
}
