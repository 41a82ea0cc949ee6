/// The collector's own settings, from the same JSON file the reference
/// collector reads:
///
///     {
///         "repository": { "dsn": "postgresql://powa_user@localhost:5432/powa" },
///         "debug": false,
///         "use_server_alias": false,
///         "snapshot_timeout": 120,
///         "max_concurrent_snapshots": 10
///     }
///
/// Everything about the monitored servers lives in the repository's
/// `powa_servers` table, not here. One key is added to the reference's,
/// `snapshot_timeout`, because how long a snapshot may take depends on the
/// servers (size, network), which only the operator knows. The supervisor's
/// timings are fixed (`SupervisorTimings`): they are safety margins rather
/// than preferences.
public struct CollectorConfiguration: Equatable, Sendable {
    /// `repository.dsn`: libpq URI or key/value conninfo of the repository.
    public var repositoryDSN: String
    /// `debug`: log at debug level, in the supervisor and in every worker.
    public var debug: Bool
    /// `use_server_alias`: name workers by their `powa_servers.alias`, when
    /// it is not empty, rather than by `host:port`.
    public var useServerAlias: Bool
    /// `snapshot_timeout`: seconds one snapshot may run before the worker
    /// cancels it, for every server; nil (the key is absent) leaves each
    /// worker its default (`SnapshotBudget`).
    public var snapshotTimeout: Double?
    /// `metrics_listen`: where to serve `/metrics`, `/healthz` and
    /// `/readyz`; nil (the key is absent) serves nothing. Read at startup
    /// only: a reload that changes it is reported and ignored.
    public var metricsListen: ListenAddress?
    /// `max_concurrent_snapshots`: how many workers may be connected to the
    /// repository at once (snapshots and version saves); the others wait
    /// their turn, in order. Bounds the repository's connections and the
    /// burst after a restart or an outage.
    public var maxConcurrentSnapshots: Int
    /// `coordination_lease`: seconds an instance's ownership of a server
    /// lasts without renewal (renewed every third of it). When an instance
    /// is frozen or cut off, the others take its servers once it expires;
    /// a SIGKILLed instance is noticed at the next round (a third of it).
    public var coordinationLease: Double

    /// Failover of a frozen instance within 60 s: 30 s of lease, at most
    /// 10 s to the next round of another instance, then a worker start.
    public static let defaultCoordinationLease: Double = 30

    /// See the README: with 2 cores, 10 concurrent snapshots keep the
    /// repository busy without more backends than cores can serve.
    public static let defaultMaxConcurrentSnapshots = 10

    public init(
        repositoryDSN: String, debug: Bool = false, useServerAlias: Bool = false, snapshotTimeout: Double? = nil,
        maxConcurrentSnapshots: Int = CollectorConfiguration.defaultMaxConcurrentSnapshots,
        coordinationLease: Double = CollectorConfiguration.defaultCoordinationLease,
        metricsListen: ListenAddress? = nil
    ) {
        self.coordinationLease = coordinationLease
        self.maxConcurrentSnapshots = maxConcurrentSnapshots
        self.repositoryDSN = repositoryDSN
        self.debug = debug
        self.useServerAlias = useServerAlias
        self.snapshotTimeout = snapshotTimeout
        self.metricsListen = metricsListen
    }

    /// Keys this program reads, with their dotted paths as errors name them.
    static let knownTopLevelKeys: Set<String> = [
        "repository", "debug", "use_server_alias", "snapshot_timeout", "max_concurrent_snapshots",
        "coordination_lease", "metrics_listen",
    ]
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
            useServerAlias: try boolean(document, "use_server_alias", path: path),
            snapshotTimeout: try positiveSeconds(document, "snapshot_timeout", path: path),
            maxConcurrentSnapshots: try positiveCount(document, "max_concurrent_snapshots", path: path)
                ?? defaultMaxConcurrentSnapshots,
            coordinationLease: try positiveSeconds(document, "coordination_lease", path: path)
                ?? defaultCoordinationLease,
            metricsListen: try listenAddress(document, "metrics_listen", path: path))
        let unknownKeys =
            document.keys.filter { !knownTopLevelKeys.contains($0) }
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

    /// An optional `host:port`, nil when absent.
    private static func listenAddress(
        _ document: JSONValue, _ key: String, path: String
    ) throws(ConfigurationError) -> ListenAddress? {
        let expected = "\"host:port\" (an IPv4 address, [IPv6] or localhost, and a port)"
        switch document[key] {
        case nil:
            return nil
        case .string(let text):
            guard let address = ListenAddress(text) else {
                throw .wrongType(path: path, key: key, expected: expected, found: "\"\(text)\"")
            }
            return address
        case let other?:
            throw .wrongType(path: path, key: key, expected: expected, found: other.typeDescription)
        }
    }

    /// An optional number of seconds, nil when absent. Zero, negative and
    /// non-finite values are refused rather than read as "no limit": a
    /// snapshot that may run forever is what the limit exists to prevent.
    private static func positiveSeconds(
        _ document: JSONValue, _ key: String, path: String
    ) throws(ConfigurationError) -> Double? {
        let expected = "a number of seconds greater than 0"
        switch document[key] {
        case nil:
            return nil
        case .number(let text):
            guard let seconds = Double(text), seconds.isFinite, seconds > 0 else {
                throw .wrongType(path: path, key: key, expected: expected, found: text)
            }
            return seconds
        case let other?:
            throw .wrongType(path: path, key: key, expected: expected, found: other.typeDescription)
        }
    }

    /// An optional whole number of at least 1, nil when absent.
    private static func positiveCount(
        _ document: JSONValue, _ key: String, path: String
    ) throws(ConfigurationError) -> Int? {
        let expected = "a whole number greater than 0"
        switch document[key] {
        case nil:
            return nil
        case .number(let text):
            guard let count = Int(text), count > 0 else {
                throw .wrongType(path: path, key: key, expected: expected, found: text)
            }
            return count
        case let other?:
            throw .wrongType(path: path, key: key, expected: expected, found: other.typeDescription)
        }
    }
}
