/// Everything a worker needs to collect one server. Sent by the supervisor on
/// the worker's stdin (never argv or environment: it holds passwords).
public struct WorkerConfiguration: Codable, Equatable, Sendable {
    /// `powa_servers.id`.
    public var srvid: Int
    /// The name used in logs: `host:port`, or the alias when configured.
    public var name: String
    /// Seconds between the starts of two snapshots.
    public var frequency: Int
    public var server: ServerConnectionParameters
    /// libpq URI or key/value conninfo of the repository.
    public var repositoryDSN: String
    public var debug: Bool
    /// Seconds a snapshot may run before it is cancelled (config key
    /// `snapshot_timeout`); nil means `SnapshotBudget.seconds(for:)`'s default.
    public var snapshotTimeout: Double?
    /// Ask the supervisor for a slot (`slot_request`) before each
    /// repository connection. Absent (false) for a worker driven without a
    /// supervisor, as the worker tests do.
    public var usesSnapshotSlots: Bool
    /// Set by a supervisor that coordinates with other instances: checked
    /// in every snapshot transaction before `powa_take_snapshot`.
    public var fence: OwnershipFence?

    public init(
        srvid: Int, name: String, frequency: Int, server: ServerConnectionParameters,
        repositoryDSN: String, debug: Bool, snapshotTimeout: Double? = nil, usesSnapshotSlots: Bool = false,
        fence: OwnershipFence? = nil
    ) {
        self.fence = fence
        self.usesSnapshotSlots = usesSnapshotSlots
        self.srvid = srvid
        self.name = name
        self.frequency = frequency
        self.server = server
        self.repositoryDSN = repositoryDSN
        self.debug = debug
        self.snapshotTimeout = snapshotTimeout
    }

    enum CodingKeys: String, CodingKey {
        case srvid, name, frequency, server
        case repositoryDSN = "repository_dsn"
        case debug
        case snapshotTimeout = "snapshot_timeout"
        case usesSnapshotSlots = "snapshot_slots"
        case fence
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        srvid = try c.decode(Int.self, forKey: .srvid)
        name = try c.decode(String.self, forKey: .name)
        frequency = try c.decode(Int.self, forKey: .frequency)
        server = try c.decode(ServerConnectionParameters.self, forKey: .server)
        repositoryDSN = try c.decode(String.self, forKey: .repositoryDSN)
        debug = try c.decode(Bool.self, forKey: .debug)
        snapshotTimeout = try c.decodeIfPresent(Double.self, forKey: .snapshotTimeout)
        usesSnapshotSlots = try c.decodeIfPresent(Bool.self, forKey: .usesSnapshotSlots) ?? false
        fence = try c.decodeIfPresent(OwnershipFence.self, forKey: .fence)
    }
}
