/// Who this collector instance is, in `powa_collector_coord.instances`.
/// The id is chosen at start (host, pid and random bits), so that a
/// restarted instance is a new one and never inherits a frozen
/// predecessor's rows by name.
public struct InstanceIdentity: Equatable, Sendable {
    public var id: String
    public var hostname: String
    public var pid: Int32

    public init(id: String, hostname: String, pid: Int32) {
        self.id = id
        self.hostname = hostname
        self.pid = pid
    }
}

/// What the shell sends in one coordination round
/// (`CoordinationSQL.round`): this instance, its lease, and the statuses of
/// its workers, published for the other instances' `WORKERS_STATUS`
/// answers.
public struct CoordinationRound: Equatable, Sendable {
    public var identity: InstanceIdentity
    public var leaseSeconds: Double
    public var statuses: [Int: String]

    public init(identity: InstanceIdentity, leaseSeconds: Double, statuses: [Int: String]) {
        self.identity = identity
        self.leaseSeconds = leaseSeconds
        self.statuses = statuses
    }
}
