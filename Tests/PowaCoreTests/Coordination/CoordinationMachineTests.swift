import Testing

@testable import PowaCore

/// The coordination machine on its own: when rounds start (one at a time,
/// only while connected, again at once when one was wanted meanwhile),
/// what a lost connection costs, and which configurations the fleet runs.
@Suite struct CoordinationMachineTests {
    static let me = InstanceIdentity(id: "me:1:a", hostname: "me", pid: 1)
    static let other = "other:2:b"
    static let lease = 30.0
    static let t0 = MonotonicInstant(seconds: 100)

    static func configuration(_ srvid: Int) -> WorkerConfiguration {
        WorkerConfiguration(
            srvid: srvid, name: "server \(srvid)", frequency: 300,
            server: ServerConnectionParameters(host: "h", port: 5432, user: "u", password: nil, dbname: "d"),
            repositoryDSN: "postgresql://repo", debug: false)
    }

    func started(_ machine: inout CoordinationMachine) -> [SupervisorAction] {
        machine.startRoundIfDue(connected: true, lease: Self.lease) { [1: "running"] }
    }

    @Test func theFirstRoundWaitsForTheConnectionAndOnlyOneIsInFlight() {
        var machine = CoordinationMachine(identity: Self.me)
        #expect(machine.startRoundIfDue(connected: false, lease: Self.lease) { [:] }.isEmpty)
        let first = started(&machine)
        #expect(
            first == [.coordinate(CoordinationRound(identity: Self.me, leaseSeconds: 30, statuses: [1: "running"]))])
        machine.repositoryConnected()
        #expect(started(&machine).isEmpty, "a round is in flight")
    }

    @Test func aRoundWantedWhileOneIsInFlightFollowsAtOnce() {
        var machine = CoordinationMachine(identity: Self.me)
        _ = started(&machine)
        _ = machine.listed([1: Self.configuration(1)], lease: Self.lease)
        _ = machine.read(
            CoordinationView(
                liveInstances: [Self.other],
                rows: [
                    OwnershipRow(srvid: 1, owner: Self.other, epoch: 1, claimable: false)
                ]), running: [], exiting: [], lease: Self.lease, now: Self.t0)
        #expect(machine.nextDeadline == nil)
        #expect(started(&machine).count == 1)
    }

    @Test func roundsFollowEachOtherEveryThirdOfTheLease() {
        var machine = CoordinationMachine(identity: Self.me)
        _ = started(&machine)
        _ = machine.read(
            CoordinationView(liveInstances: [], rows: []), running: [], exiting: [], lease: Self.lease, now: Self.t0)
        #expect(machine.nextDeadline == Self.t0 + .seconds(10))
        machine.tick(now: Self.t0 + .seconds(9))
        #expect(started(&machine).isEmpty)
        machine.tick(now: Self.t0 + .seconds(10))
        #expect(started(&machine).count == 1)
    }

    @Test func aRoundLostWithTheConnectionIsWantedAgainAndItsLateResultIgnored() {
        var machine = CoordinationMachine(identity: Self.me)
        _ = machine.listed([1: Self.configuration(1)], lease: Self.lease)
        _ = started(&machine)
        machine.repositoryLost()
        let late = machine.read(
            CoordinationView(liveInstances: [Self.me.id], rows: []), running: [], exiting: [], lease: Self.lease,
            now: Self.t0)
        #expect(late.actions.isEmpty && late.apply == nil)
        #expect(machine.roundFailing, "no round succeeded")
        #expect(started(&machine).count == 1)
    }

    @Test func aFailedRoundWaitsAThirdOfTheLeaseAndSaysWhetherNothingIsCollected() {
        var machine = CoordinationMachine(identity: Self.me)
        _ = started(&machine)
        let logged = machine.failed("permission denied", idle: true, lease: Self.lease, now: Self.t0)
        #expect(logged.count == 1)
        guard case .log(.error, let text, _)? = logged.first else {
            Issue.record("\(logged)")
            return
        }
        #expect(text.contains("next round in 10 s; this instance collects nothing until one succeeds"))
        #expect(machine.nextDeadline == Self.t0 + .seconds(10))
        #expect(machine.roundFailing)
    }

    @Test func claimedServersRunWithTheirFenceAndOnlyThose() {
        var machine = CoordinationMachine(identity: Self.me)
        let listed = machine.listed([1: Self.configuration(1), 2: Self.configuration(2)], lease: Self.lease)
        #expect(listed.apply == [:], "nothing runs before it is owned")
        _ = started(&machine)
        let read = machine.read(
            CoordinationView(liveInstances: [Self.me.id], rows: []), running: [], exiting: [], lease: Self.lease,
            now: Self.t0)
        #expect(read.actions.contains(.claimServers(instance: Self.me.id, leaseSeconds: 30, srvids: [1, 2])))
        let claimed = machine.claimed([2: 5], lease: Self.lease, now: Self.t0)
        #expect(claimed.apply?.keys.sorted() == [2])
        #expect(claimed.apply?[2]?.fence == OwnershipFence(owner: Self.me.id, epoch: 5, leaseSeconds: 30))
        #expect(machine.summary(workers: 1) == CoordinationSummary(listed: 2, owned: 1, roundFailing: false))
    }

    @Test func statusesOfServersWithoutAWorkerHereComeFromTheirOwner() {
        var machine = CoordinationMachine(identity: Self.me)
        _ = machine.listed([1: Self.configuration(1), 2: Self.configuration(2)], lease: Self.lease)
        _ = started(&machine)
        _ = machine.read(
            CoordinationView(
                liveInstances: [Self.me.id, Self.other],
                rows: [
                    OwnershipRow(srvid: 1, owner: Self.other, epoch: 1, claimable: false, ownerStatus: "running")
                ]), running: [], exiting: [], lease: Self.lease, now: Self.t0)
        #expect(machine.mergedStatuses([:]) == [1: "running", 2: CoordinationMachine.unassignedStatus])
        #expect(machine.mergedStatus(of: 1, own: nil) == "running")
        #expect(machine.mergedStatus(of: 3, own: nil) == nil, "not listed")
        #expect(machine.isOwnedElsewhere(1, hasWorker: false))
        #expect(!machine.isOwnedElsewhere(1, hasWorker: true))
        #expect(!machine.isOwnedElsewhere(2, hasWorker: false))
    }
}
