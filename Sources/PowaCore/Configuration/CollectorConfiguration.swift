/// The collector's own settings, from the same JSON file the reference
/// collector reads:
///
///     {
///         "repository": { "dsn": "postgresql://powa_user@localhost:5432/powa" },
///         "debug": false,
///         "use_server_alias": false
///     }
///
/// Everything about the monitored servers lives in the repository's
/// `powa_servers` table, not here. No key beyond the reference's is defined:
/// the supervisor's timings are fixed (`SupervisorTimings`), because they
/// are safety margins rather than preferences.
public struct CollectorConfiguration: Equatable, Sendable {
    /// `repository.dsn`: libpq URI or key/value conninfo of the repository.
    public var repositoryDSN: String
    /// `debug`: log at debug level, in the supervisor and in every worker.
    public var debug: Bool
    /// `use_server_alias`: name workers by their `powa_servers.alias`, when
    /// it is not empty, rather than by `host:port`.
    public var useServerAlias: Bool

    public init(repositoryDSN: String, debug: Bool = false, useServerAlias: Bool = false) {
        self.repositoryDSN = repositoryDSN
        self.debug = debug
        self.useServerAlias = useServerAlias
    }

    /// Keys this program reads, with their dotted paths as errors name them.
    static let knownTopLevelKeys: Set<String> = ["repository", "debug", "use_server_alias"]
    static let knownRepositoryKeys: Set<String> = ["dsn"]

    /// Reads the settings from the bytes of the file at `path` (the path is
    /// only used to name the file in errors).
    ///
    /// Returns the configuration and the dotted paths of keys that were
    /// ignored because this program does not know them (worth a warning: a
    /// misspelled `use_server_alias` would otherwise go unnoticed).
    public static func parse(
        _ bytes: [UInt8], path: String
    ) throws(ConfigurationError) -> (configuration: CollectorConfiguration, unknownKeys: [String]) {
        let document: JSONValue
        do {
            document = try StrictJSONParser.parse(bytes)
        } catch {
            throw .invalidJSON(path: path, error)
        }
        guard case .object = document else {
            throw .notAnObject(path: path, found: document.typeDescription)
        }
        guard let repository = document["repository"] else {
            throw .missingKey(path: path, key: "repository.dsn")
        }
        guard case .object = repository else {
            throw .wrongType(path: path, key: "repository", expected: "an object", found: repository.typeDescription)
        }
        guard let dsnValue = repository["dsn"] else {
            throw .missingKey(path: path, key: "repository.dsn")
        }
        guard case .string(let dsn) = dsnValue else {
            throw .wrongType(path: path, key: "repository.dsn", expected: "a string", found: dsnValue.typeDescription)
        }
        let configuration = CollectorConfiguration(
            repositoryDSN: dsn,
            debug: try boolean(document, "debug", path: path),
            useServerAlias: try boolean(document, "use_server_alias", path: path))
        let unknownKeys = document.keys.filter { !knownTopLevelKeys.contains($0) }
            + repository.keys.filter { !knownRepositoryKeys.contains($0) }.map { "repository.\($0)" }
        return (configuration, unknownKeys)
    }

    /// An optional boolean key, false when absent. Only `true` and `false`
    /// are accepted: the reference would read `"false"` (a non-empty string)
    /// as true, which is never what the author meant.
    private static func boolean(_ document: JSONValue, _ key: String, path: String) throws(ConfigurationError) -> Bool {
        switch document[key] {
        case nil: return false
        case .bool(let value): return value
        case let other?:
            throw .wrongType(path: path, key: key, expected: "true or false", found: other.typeDescription)
        }
    }
}
