/// Coordination with other instances on the same repository: rounds,
/// claims, releases, hand-overs. The decision itself is `OwnershipPlan`;
/// this applies it to the workers.
extension SupervisorStateMachine {
    /// A new server list: every server is remembered, only owned ones run.
    mutating func applyListed(_ wanted: [Int: WorkerConfiguration], now: Double) {
        guard var coordination else {
            apply(wanted, now: now)
            return
        }
        coordination.listed = wanted
        coordination.roundWanted = true
        self.coordination = coordination
        apply(ownedConfigurations(), now: now)
    }

    /// The configurations of the servers this instance owns, each with its
    /// fence.
    func ownedConfigurations() -> [Int: WorkerConfiguration] {
        guard let coordination else { return [:] }
        var configurations: [Int: WorkerConfiguration] = [:]
        for (srvid, epoch) in coordination.owned {
            guard var worker = coordination.listed[srvid] else { continue }
            worker.fence = OwnershipFence(
                owner: coordination.identity.id, epoch: epoch, leaseSeconds: configuration.coordinationLease)
            configurations[srvid] = worker
        }
        return configurations
    }

    mutating func coordinationRead(_ view: CoordinationView, now: Double) {
        guard var coordination, coordination.roundInFlight else { return }
        coordination.roundInFlight = false
        coordination.roundFailing = false
        coordination.view = view
        let me = coordination.identity.id
        let plan = OwnershipPlan.decide(
            me: me, view: view, listed: Set(coordination.listed.keys), running: Set(workers.keys),
            exiting: Set(retiring.values.map(\.srvid)),
            handoverLimit: OwnershipPlan.handoverLimit(listed: coordination.listed.count))
        for srvid in coordination.owned.keys.sorted() where plan.keep[srvid] != coordination.owned[srvid] {
            let owner = view.rows[srvid]?.owner
            if plan.stop.contains(srvid), owner == me {
                log(.info, "server \(srvid) belongs to another instance now, handing it over")
            } else if owner != me {
                log(.warning, "ownership of server \(srvid) lost (now \(owner ?? "released")), stopping its worker")
            }
        }
        coordination.owned = plan.keep
        self.coordination = coordination
        if !plan.release.isEmpty {
            log(.debug, "releasing server\(plan.release.count == 1 ? "" : "s") \(plan.release.sorted())")
            actions.append(.releaseServers(instance: me, srvids: plan.release.sorted()))
        }
        if !plan.claim.isEmpty, !coordination.claimInFlight {
            self.coordination?.claimInFlight = true
            actions.append(.claimServers(
                instance: me, leaseSeconds: configuration.coordinationLease, srvids: plan.claim.sorted()))
        }
        apply(ownedConfigurations(), now: now, updatingVersions: false)
        scheduleRound(now: now)
    }

    mutating func serversClaimed(_ claimed: [Int: Int64], now: Double) {
        guard var coordination else { return }
        coordination.claimInFlight = false
        for srvid in claimed.keys.sorted() {
            coordination.owned[srvid] = claimed[srvid]
            log(.info, "claimed server \(srvid) (epoch \(claimed[srvid]!))")
        }
        self.coordination = coordination
        guard !claimed.isEmpty, phase == .running else { return }
        apply(ownedConfigurations(), now: now, updatingVersions: false)
    }

    mutating func coordinationFailed(_ reason: String, now: Double) {
        guard coordination != nil else { return }
        coordination?.roundInFlight = false
        coordination?.claimInFlight = false
        coordination?.roundFailing = true
        let idle = coordination?.owned.isEmpty == true && workers.isEmpty
        log(idle ? .error : .warning, "coordination with the other instances failed: \(reason); next round in "
            + "\(Int((configuration.coordinationLease / 3).rounded())) s"
            + (idle ? "; this instance collects nothing until one succeeds" : ""))
        scheduleRound(now: now)
    }

    private mutating func scheduleRound(now: Double) {
        schedule(.coordinationRound, at: now + configuration.coordinationLease / 3)
    }

    /// Issues a due round once the repository connection is up.
    mutating func startRoundIfDue(now: Double) {
        guard let coordination, phase == .running, repository.state == .connected,
              coordination.roundWanted, !coordination.roundInFlight, !coordination.claimInFlight
        else { return }
        self.coordination?.roundWanted = false
        self.coordination?.roundInFlight = true
        var statuses: [Int: String] = [:]
        for (srvid, worker) in workers { statuses[srvid] = worker.statusText(now: now, slot: slots.standing(of: srvid)) }
        actions.append(.coordinate(CoordinationRound(
            identity: coordination.identity, leaseSeconds: configuration.coordinationLease, statuses: statuses)))
    }

    /// Every listed server's status: this instance's workers, the others'
    /// published statuses for the rest.
    func mergedStatuses(_ own: [Int: String]) -> [Int: String] {
        guard let coordination else { return own }
        var statuses = own
        for srvid in coordination.listed.keys where statuses[srvid] == nil {
            let published = coordination.view.flatMap { view in
                view.otherOwner(of: srvid, me: coordination.identity.id).flatMap { _ in view.rows[srvid]?.ownerStatus }
            }
            statuses[srvid] = published ?? CoordinationState.unassignedStatus
        }
        return statuses
    }

    /// Whether another live instance owns `srvid`: its requests are that
    /// instance's to answer, so this one stays silent.
    func isOwnedElsewhere(_ srvid: Int) -> Bool {
        guard let coordination, workers[srvid] == nil, let view = coordination.view else { return false }
        return view.otherOwner(of: srvid, me: coordination.identity.id) != nil
    }

    /// How this instance shares the repository, for the status line and
    /// the metrics; nil when it runs alone (no coordination).
    public var coordinationSummary: CoordinationSummary? {
        guard let coordination else { return nil }
        return CoordinationSummary(
            listed: coordination.listed.count, owned: workers.count, roundFailing: coordination.roundFailing)
    }
}
