/// The supervisor machine's part in sharing the repository with other
/// instances: what `powa_servers` lists, what this instance owns, and the
/// last round's view of the others.
struct CoordinationState: Sendable {
    let identity: InstanceIdentity
    /// Every server to collect, whoever owns it.
    var listed: [Int: WorkerConfiguration] = [:]
    /// Servers this instance owns, with the epoch of its claim: the only
    /// ones it runs workers for.
    var owned: [Int: Int64] = [:]
    var view: CoordinationView?
    /// A round is due (timer, new server list, reconnection).
    var roundWanted = false
    var roundInFlight = false
    var claimInFlight = false
    /// The last round failed (or none succeeded yet this run): nothing new
    /// is claimed and the status line and metrics say so.
    var roundFailing = true

    init(identity: InstanceIdentity) {
        self.identity = identity
    }

    /// Status shown for a server no live instance has published a status
    /// for (between a release and the next owner's first report).
    static let unassignedStatus = "waiting for an instance"
}
