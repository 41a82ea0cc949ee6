/// An instance's share of the repository's servers, as systemd's status
/// line and the metrics endpoint report it: with several instances, each
/// one's workers are only its own servers, so "2 servers" alone would read
/// as if the others were missing.
public struct CoordinationSummary: Equatable, Sendable {
    /// Servers `powa_servers` lists, whoever collects them.
    public var listed: Int
    /// Servers this instance runs a worker for.
    public var owned: Int
    /// The last coordination round failed (or none succeeded yet): this
    /// instance claims nothing new until one succeeds.
    public var roundFailing: Bool

    public init(listed: Int, owned: Int, roundFailing: Bool) {
        self.listed = listed
        self.owned = owned
        self.roundFailing = roundFailing
    }

    /// Listed servers this instance does not collect: other instances'.
    public var elsewhere: Int { max(0, listed - owned) }

    /// Why `/readyz` says not ready while rounds fail: connected and with
    /// its server list, such an instance still cannot do its share (it
    /// claims nothing, and the fence refuses its workers' snapshots once
    /// their leases run out), so a load balancer or an operator must not
    /// take it for a healthy one.
    var notReadyReason: String {
        let why = "coordination with the other instances on the repository is failing (see the log)"
        if owned == 0 { return why + ": this instance collects nothing until a round succeeds" }
        return why + ": this instance claims no server, and its \(owned) worker\(owned == 1 ? "'s" : "s'")"
            + " snapshots are refused once their leases run out"
    }
}
