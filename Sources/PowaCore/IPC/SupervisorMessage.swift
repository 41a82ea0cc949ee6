/// A line the supervisor writes on a worker's stdin, one JSON object per line
/// with a `type` field.
public enum SupervisorMessage: Equatable, Sendable {
    /// First line: the worker's whole configuration.
    case start(WorkerConfiguration)
    /// New configuration for the same server (connection or frequency changed).
    case reload(WorkerConfiguration)
    /// Store the remote's server and extension versions again.
    case updateVersions
    /// Take a snapshot now. The supervisor has already decided it is allowed.
    case forceSnapshot
    /// Refresh catalogs of these databases at the next snapshot; empty = all.
    case refreshCatalogs(dbnames: [String])
    /// Abort any snapshot in flight (rolled back), close connections, exit 0.
    case stop
    /// The answer to `slot_request`: the worker may connect to the
    /// repository now, and sends `slot_release` when done.
    case slotGranted
}

extension SupervisorMessage: Codable {
    enum CodingKeys: String, CodingKey { case type, config, dbnames }

    public var typeName: String {
        switch self {
        case .start: "start"
        case .reload: "reload"
        case .updateVersions: "update_versions"
        case .forceSnapshot: "force_snapshot"
        case .refreshCatalogs: "refresh_catalogs"
        case .stop: "stop"
        case .slotGranted: "slot_granted"
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "start": self = .start(try c.decode(WorkerConfiguration.self, forKey: .config))
        case "reload": self = .reload(try c.decode(WorkerConfiguration.self, forKey: .config))
        case "update_versions": self = .updateVersions
        case "force_snapshot": self = .forceSnapshot
        case "refresh_catalogs":
            self = .refreshCatalogs(dbnames: try c.decodeIfPresent([String].self, forKey: .dbnames) ?? [])
        case "stop": self = .stop
        case "slot_granted": self = .slotGranted
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c, debugDescription: "unknown message type \"\(type)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(typeName, forKey: .type)
        switch self {
        case .start(let config), .reload(let config): try c.encode(config, forKey: .config)
        case .refreshCatalogs(let dbnames): try c.encode(dbnames, forKey: .dbnames)
        case .updateVersions, .forceSnapshot, .stop, .slotGranted: break
        }
    }
}
