import Testing

@testable import PowaCore

@Suite struct OwnershipPlanTests {
    static let a = "a:1:1"
    static let b = "b:2:2"

    /// Servers `among` gives to `instance`.
    func won(by instance: String, among instances: [String], _ servers: ClosedRange<Int>) -> Set<Int> {
        Set(servers.filter { RendezvousHash.winner(srvid: $0, among: instances) == instance })
    }

    @Test func aloneItClaimsEveryFreeOrMissingRow() {
        let view = CoordinationView(
            liveInstances: [Self.a],
            rows: [
                OwnershipRow(srvid: 1, owner: nil, epoch: 3, claimable: true),
                OwnershipRow(srvid: 2, owner: "dead", epoch: 7, claimable: true),
            ])
        let plan = OwnershipPlan.decide(
            me: Self.a, view: view, listed: [1, 2, 3], running: [], exiting: [], handoverLimit: 1)
        #expect(plan == OwnershipPlan(claim: [1, 2, 3]))
    }

    @Test func aRowHeldByALiveOwnerIsNotClaimedEvenIfThisInstanceWinsIt() {
        let mine = won(by: Self.a, among: [Self.a, Self.b], 1...20)
        let rows = (1...20).map { OwnershipRow(srvid: $0, owner: Self.b, epoch: 1, claimable: false) }
        let plan = OwnershipPlan.decide(
            me: Self.a, view: CoordinationView(liveInstances: [Self.a, Self.b], rows: rows),
            listed: Set(1...20), running: [], exiting: [], handoverLimit: 5)
        #expect(!mine.isEmpty)
        #expect(plan.claim.isEmpty, "it waits for the owner to hand them over")
        #expect(plan.keep.isEmpty)
    }

    @Test func itKeepsWhatItOwnsAndWinsWithTheRowsEpoch() {
        let plan = OwnershipPlan.decide(
            me: Self.a,
            view: CoordinationView(
                liveInstances: [Self.a],
                rows: [
                    OwnershipRow(srvid: 1, owner: Self.a, epoch: 9, claimable: false)
                ]),
            listed: [1], running: [1], exiting: [], handoverLimit: 1)
        #expect(plan == OwnershipPlan(keep: [1: 9]))
    }

    @Test func aJoinIsHandedOverAFewServersPerRoundThenReleased() {
        let servers = 1...30
        let theirs = won(by: Self.b, among: [Self.a, Self.b], servers)
        #expect(theirs.count > 3)
        let rows = servers.map { OwnershipRow(srvid: $0, owner: Self.a, epoch: 1, claimable: false) }
        let view = CoordinationView(liveInstances: [Self.a, Self.b], rows: rows)
        let first = OwnershipPlan.decide(
            me: Self.a, view: view, listed: Set(servers), running: Set(servers), exiting: [], handoverLimit: 3)
        #expect(first.stop.count == 3)
        #expect(first.stop.isSubset(of: theirs))
        #expect(first.keep.count == 27, "the others keep running until their turn")
        #expect(first.release.isEmpty && first.claim.isEmpty)
        // The stopped workers are exiting: not released yet.
        let second = OwnershipPlan.decide(
            me: Self.a, view: view, listed: Set(servers), running: Set(servers).subtracting(first.stop),
            exiting: first.stop, handoverLimit: 3)
        #expect(second.release.isEmpty)
        #expect(second.stop.isDisjoint(with: first.stop) && second.stop.count == 3)
        // Gone: released, so that the new owner may claim them at once.
        let third = OwnershipPlan.decide(
            me: Self.a, view: view, listed: Set(servers),
            running: Set(servers).subtracting(first.stop).subtracting(second.stop), exiting: second.stop,
            handoverLimit: 3)
        #expect(third.release == first.stop)
    }

    @Test func aRowTakenByAnotherInstanceIsNeitherKeptNorReleased() {
        let plan = OwnershipPlan.decide(
            me: Self.a,
            view: CoordinationView(
                liveInstances: [Self.a, Self.b],
                rows: [
                    OwnershipRow(srvid: 1, owner: Self.b, epoch: 2, claimable: false)
                ]),
            listed: [1], running: [1], exiting: [], handoverLimit: 1)
        #expect(plan.keep[1] == nil, "the machine stops a worker that is not kept")
        #expect(plan.release.isEmpty, "never release another instance's row")
    }

    @Test func aRemovedServerIsStoppedWithoutLimitThenReleased() {
        let rows = (1...3).map { OwnershipRow(srvid: $0, owner: Self.a, epoch: 1, claimable: false) }
        let view = CoordinationView(liveInstances: [Self.a], rows: rows)
        let plan = OwnershipPlan.decide(
            me: Self.a, view: view, listed: [], running: [1, 2, 3], exiting: [], handoverLimit: 1)
        #expect(plan.stop == [1, 2, 3])
        let later = OwnershipPlan.decide(me: Self.a, view: view, listed: [], running: [], exiting: [], handoverLimit: 1)
        #expect(later.release == [1, 2, 3])
    }

    @Test func handoverLimitIsATenthAtLeastOne() {
        #expect(OwnershipPlan.handoverLimit(listed: 0) == 1)
        #expect(OwnershipPlan.handoverLimit(listed: 9) == 1)
        #expect(OwnershipPlan.handoverLimit(listed: 500) == 50)
    }
}
