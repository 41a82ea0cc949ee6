/// What a worker checks inside its snapshot transaction before
/// `powa_take_snapshot`: the repository still says this instance owns the
/// server at this epoch, with a lease not yet expired. Sent with `start`
/// and `reload` (never argv); absent for a worker without coordination
/// (driven by hand, as the worker tests do).
public struct OwnershipFence: Codable, Equatable, Sendable {
    /// The owning instance's id (`powa_collector_coord.instances.id`).
    public var owner: String
    /// `powa_collector_coord.ownership.epoch` when this instance claimed it.
    public var epoch: Int64
    /// The lease in seconds: also bounds how long the worker's repository
    /// session may stay idle inside a transaction (a frozen worker must not
    /// hold its row lock, and so block a new owner, for longer).
    public var leaseSeconds: Double

    public init(owner: String, epoch: Int64, leaseSeconds: Double) {
        self.owner = owner
        self.epoch = epoch
        self.leaseSeconds = leaseSeconds
    }

    enum CodingKeys: String, CodingKey {
        case owner, epoch
        case leaseSeconds = "lease"
    }
}
