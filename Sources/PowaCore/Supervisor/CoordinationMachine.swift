import Logging

/// The supervisor's part in sharing the repository with other instances,
/// as a machine: what `powa_servers` lists, what this instance owns (with
/// the epoch of each claim), and its rounds, claims and releases. The
/// decision of who keeps, hands over, releases or claims a server is
/// `OwnershipPlan`'s; this machine keeps the state between rounds and says
/// which configurations the fleet must run (only owned servers, each with
/// its fence).
///
/// Rounds: one is wanted at startup, after each new server list, after each
/// (re)connection to the repository (leases may have run on meanwhile), and
/// a third of the lease after the previous one ended. At most one round or
/// claim is in flight; one lost with the connection is wanted again.
struct CoordinationMachine: Sendable {
    /// Where a round stands.
    enum Round: Equatable, Sendable {
        /// Nothing in flight; `wanted` when one must start as soon as it can,
        /// otherwise the next is at `nextAt` (nil before the first).
        case idle(wanted: Bool, nextAt: MonotonicInstant?)
        /// `coordinate` was issued.
        case reading
        /// `claimServers` was issued after a round.
        case claiming
    }

    /// What an input asks of the supervisor: actions to carry out, and the
    /// owned configurations to apply to the fleet when they may have changed.
    struct Step: Sendable {
        var actions: [SupervisorAction] = []
        /// Apply these (the owned servers' configurations) to the fleet.
        var apply: [Int: WorkerConfiguration]?
    }

    let identity: InstanceIdentity
    /// Every server to collect, whoever owns it.
    private(set) var listed: [Int: WorkerConfiguration] = [:]
    /// Servers this instance owns, with the epoch of its claim: the only
    /// ones it runs workers for.
    private(set) var owned: [Int: Int64] = [:]
    /// The last round's view of the instances and of who owns what.
    private(set) var view: CoordinationView?
    private(set) var round = Round.idle(wanted: true, nextAt: nil)
    /// The last round failed (or none succeeded yet this run): nothing new
    /// is claimed and the status line and metrics say so.
    private(set) var roundFailing = true
    /// A round was wanted while one was in flight: it follows at once.
    private var wantedAgain = false

    /// Status shown for a server no live instance has published a status
    /// for (between a release and the next owner's first report).
    static let unassignedStatus = "waiting for an instance"

    init(identity: InstanceIdentity) {
        self.identity = identity
    }

    // MARK: - What the supervisor reads

    /// When the next round is due, while waiting for it.
    var nextDeadline: MonotonicInstant? {
        if case .idle(false, let nextAt?) = round { nextAt } else { nil }
    }

    /// The configurations of the servers this instance owns, each with its fence.
    func ownedConfigurations(lease: Double) -> [Int: WorkerConfiguration] {
        var configurations: [Int: WorkerConfiguration] = [:]
        for (srvid, epoch) in owned {
            guard var worker = listed[srvid] else { continue }
            worker.fence = OwnershipFence(owner: identity.id, epoch: epoch, leaseSeconds: lease)
            configurations[srvid] = worker
        }
        return configurations
    }

    /// Why the fleet stops a worker whose server it no longer runs.
    func removalReason(srvid: Int) -> String {
        listed[srvid] != nil
            ? "server \(srvid) no longer collected by this instance, stopping its worker"
            : "server \(srvid) removed, stopping its worker"
    }

    /// Every listed server's status: this instance's workers (`own`), the
    /// other instances' published statuses for the rest.
    func mergedStatuses(_ own: [Int: String]) -> [Int: String] {
        var statuses = own
        for srvid in listed.keys where statuses[srvid] == nil {
            statuses[srvid] = publishedStatus(of: srvid)
        }
        return statuses
    }

    /// One server's status: `own` (its worker's here), else the owner's.
    func mergedStatus(of srvid: Int, own: String?) -> String? {
        if let own { return own }
        return listed[srvid] != nil ? publishedStatus(of: srvid) : nil
    }

    private func publishedStatus(of srvid: Int) -> String {
        let published = view.flatMap { view in
            view.otherOwner(of: srvid, me: identity.id).flatMap { _ in view.rows[srvid]?.ownerStatus }
        }
        return published ?? Self.unassignedStatus
    }

    /// Whether another live instance owns `srvid` (and this one runs no
    /// worker for it): its requests are that instance's to answer.
    func isOwnedElsewhere(_ srvid: Int, hasWorker: Bool) -> Bool {
        guard !hasWorker, let view else { return false }
        return view.otherOwner(of: srvid, me: identity.id) != nil
    }

    /// How this instance shares the repository; `workers` is how many it runs.
    func summary(workers: Int) -> CoordinationSummary {
        CoordinationSummary(listed: listed.count, owned: workers, roundFailing: roundFailing)
    }

    // MARK: - Inputs

    /// A new server list: every server is remembered, only owned ones run,
    /// and a round is wanted.
    mutating func listed(_ wanted: [Int: WorkerConfiguration], lease: Double) -> Step {
        listed = wanted
        wantRound()
        return Step(apply: ownedConfigurations(lease: lease))
    }

    /// The supervisor's repository connection is up: a round at once, leases
    /// may have run on while it was down.
    mutating func repositoryConnected() {
        wantRound()
    }

    /// The connection broke: a round or claim in flight is lost with it.
    mutating func repositoryLost() {
        switch round {
        case .reading, .claiming:
            round = .idle(wanted: true, nextAt: nil)
            wantedAgain = false
        case .idle: break
        }
    }

    /// Time passed: the next round, when it is due.
    mutating func tick(now: MonotonicInstant) {
        if case .idle(false, let nextAt?) = round, now >= nextAt { wantRound() }
    }

    /// A round starts when one is wanted and the connection is up.
    /// `statuses`: this instance's workers' statuses, published with it.
    mutating func startRoundIfDue(connected: Bool, lease: Double, statuses: () -> [Int: String]) -> [SupervisorAction] {
        guard connected, case .idle(wanted: true, _) = round else { return [] }
        round = .reading
        return [.coordinate(CoordinationRound(identity: identity, leaseSeconds: lease, statuses: statuses()))]
    }

    /// The round's result. `running` and `exiting`: the servers the fleet
    /// runs a worker for, and those whose process is still being ended.
    mutating func read(
        _ view: CoordinationView, running: Set<Int>, exiting: Set<Int>, lease: Double, now: MonotonicInstant
    ) -> Step {
        guard round == .reading else { return Step() }  // lost with a connection meanwhile
        roundFailing = false
        self.view = view
        let me = identity.id
        let plan = OwnershipPlan.decide(
            me: me, view: view, listed: Set(listed.keys), running: running, exiting: exiting,
            handoverLimit: OwnershipPlan.handoverLimit(listed: listed.count))
        var step = Step()
        for srvid in owned.keys.sorted() where plan.keep[srvid] != owned[srvid] {
            let owner = view.rows[srvid]?.owner
            if plan.stop.contains(srvid), owner == me {
                step.actions.append(
                    .log(.info, "server \(srvid) belongs to another instance now, handing it over", worker: nil))
            } else if owner != me {
                step.actions.append(
                    .log(
                        .warning, "ownership of server \(srvid) lost (now \(owner ?? "released")), stopping its worker",
                        worker: nil))
            }
        }
        owned = plan.keep
        if !plan.release.isEmpty {
            step.actions.append(
                .log(
                    .debug, "releasing server\(plan.release.count == 1 ? "" : "s") \(plan.release.sorted())",
                    worker: nil))
            step.actions.append(.releaseServers(instance: me, srvids: plan.release.sorted()))
        }
        if plan.claim.isEmpty {
            endRound(now: now, lease: lease)
        } else {
            round = .claiming
            step.actions.append(.claimServers(instance: me, leaseSeconds: lease, srvids: plan.claim.sorted()))
        }
        step.apply = ownedConfigurations(lease: lease)
        return step
    }

    /// The claim's result: the servers now this instance's, with their
    /// epochs. The rows are this instance's in the repository whatever
    /// happened since the claim was issued (the shell reports a claim lost
    /// with its connection as the connection's loss, never as this).
    mutating func claimed(_ claimed: [Int: Int64], lease: Double, now: MonotonicInstant) -> Step {
        if round == .claiming { endRound(now: now, lease: lease) }
        var step = Step()
        for srvid in claimed.keys.sorted() {
            owned[srvid] = claimed[srvid]
            step.actions.append(.log(.info, "claimed server \(srvid) (epoch \(claimed[srvid]!))", worker: nil))
        }
        if !claimed.isEmpty { step.apply = ownedConfigurations(lease: lease) }
        return step
    }

    /// The round or the claim failed on a connection that is still up.
    /// `idle`: this instance runs no worker.
    mutating func failed(_ reason: String, idle: Bool, lease: Double, now: MonotonicInstant) -> [SupervisorAction] {
        switch round {
        case .reading, .claiming: break
        case .idle: return []  // lost with a connection meanwhile
        }
        roundFailing = true
        let interval = Self.interval(lease: lease)
        endRound(now: now, lease: lease)
        let nothing = idle && owned.isEmpty
        return [
            .log(
                nothing ? .error : .warning,
                "coordination with the other instances failed: \(reason); next round in "
                    + "\(Int(interval.inSeconds.rounded())) s"
                    + (nothing ? "; this instance collects nothing until one succeeds" : ""), worker: nil)
        ]
    }

    // MARK: - Private

    private mutating func wantRound() {
        switch round {
        case .idle: round = .idle(wanted: true, nextAt: nil)
        case .reading, .claiming: wantedAgain = true  // the next one follows it
        }
    }

    /// The round in flight is over: the next one now if it was wanted
    /// meanwhile, else in a third of the lease.
    private mutating func endRound(now: MonotonicInstant, lease: Double) {
        round = .idle(wanted: wantedAgain, nextAt: wantedAgain ? nil : now + Self.interval(lease: lease))
        wantedAgain = false
    }

    /// Rounds every third of the lease: a live instance renews its lease
    /// twice before it could run out.
    static func interval(lease: Double) -> Duration {
        .fromSeconds(lease / 3)
    }
}
