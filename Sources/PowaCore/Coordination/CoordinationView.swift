/// One server's row of `powa_collector_coord.ownership`, as a coordination
/// round reads it.
public struct OwnershipRow: Equatable, Sendable {
    public var srvid: Int
    /// nil once released.
    public var owner: String?
    public var epoch: Int64
    /// Whether a claim may take it now: released, lease expired, or its
    /// owner is no longer a live instance (its lease expired, or its
    /// repository session is gone while the repository itself kept running,
    /// which is how a SIGKILLed instance is noticed at once). Decided by the
    /// repository's clock, never this machine's.
    public var claimable: Bool
    /// The status its owner last published for it, when another instance
    /// owns it.
    public var ownerStatus: String?

    public init(srvid: Int, owner: String?, epoch: Int64, claimable: Bool, ownerStatus: String? = nil) {
        self.srvid = srvid
        self.owner = owner
        self.epoch = epoch
        self.claimable = claimable
        self.ownerStatus = ownerStatus
    }
}

/// What one coordination round read from the repository, right after it
/// renewed this instance's lease and the leases of the servers it owns.
public struct CoordinationView: Equatable, Sendable {
    /// Ids of the live instances, this one included.
    public var liveInstances: Set<String>
    public var rows: [Int: OwnershipRow]

    public init(liveInstances: Set<String>, rows: [OwnershipRow]) {
        self.liveInstances = liveInstances
        self.rows = Dictionary(rows.map { ($0.srvid, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The live instance other than `me` that owns `srvid`, if any.
    public func otherOwner(of srvid: Int, me: String) -> String? {
        guard let owner = rows[srvid]?.owner, owner != me, liveInstances.contains(owner) else { return nil }
        return owner
    }
}
