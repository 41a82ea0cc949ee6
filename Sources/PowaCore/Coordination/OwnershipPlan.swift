/// The one decision of "which servers are mine", from a coordination
/// round's view and what this instance runs. Pure: the state machine
/// carries it out (claims, releases, workers started and stopped).
public struct OwnershipPlan: Equatable, Sendable {
    /// Servers this instance owns and keeps collecting, with their epoch.
    public var keep: [Int: Int64] = [:]
    /// Servers it owns but hands over now: stop the worker; the row is
    /// released by a later round, once no process of this instance is left
    /// for it.
    public var stop: Set<Int> = []
    /// Rows it owns with no process left and that it should not keep.
    public var release: Set<Int> = []
    /// Servers it should collect whose row is free (or missing): claim them.
    public var claim: Set<Int> = []

    public init(keep: [Int: Int64] = [:], stop: Set<Int> = [], release: Set<Int> = [], claim: Set<Int> = []) {
        self.keep = keep
        self.stop = stop
        self.release = release
        self.claim = claim
    }

    /// Decides for instance `me`.
    ///
    /// - Parameters:
    ///   - listed: servers of `powa_servers` to collect.
    ///   - running: servers with a worker of this instance (not exiting).
    ///   - exiting: servers whose worker of this instance is exiting.
    ///   - handoverLimit: at most this many servers are handed over per
    ///     round, so that a join moves its share gradually, not in a burst.
    ///     Servers removed from `powa_servers` and claims are not limited
    ///     (failover must be quick; spawns are paced anyway).
    public static func decide(
        me: String, view: CoordinationView, listed: Set<Int>, running: Set<Int>, exiting: Set<Int>,
        handoverLimit: Int
    ) -> OwnershipPlan {
        var plan = OwnershipPlan()
        let instances = view.liveInstances.union([me])
        var handovers = 0
        for srvid in view.rows.keys.sorted() {
            let row = view.rows[srvid]!
            guard row.owner == me else { continue }
            let isListed = listed.contains(srvid)
            if isListed, RendezvousHash.winner(srvid: srvid, among: instances) == me {
                plan.keep[srvid] = row.epoch
            } else if running.contains(srvid) {
                if !isListed {
                    plan.stop.insert(srvid)
                } else if handovers < handoverLimit {
                    plan.stop.insert(srvid)
                    handovers += 1
                } else {
                    plan.keep[srvid] = row.epoch  // its turn comes in a later round
                }
            } else if !exiting.contains(srvid) {
                plan.release.insert(srvid)
            }
        }
        for srvid in listed where RendezvousHash.winner(srvid: srvid, among: instances) == me {
            guard let row = view.rows[srvid] else {
                plan.claim.insert(srvid)
                continue
            }
            if row.owner != me, row.claimable { plan.claim.insert(srvid) }
        }
        return plan
    }

    /// Hand-overs per round: a tenth of the listed servers, at least one.
    public static func handoverLimit(listed: Int) -> Int { max(1, listed / 10) }
}
