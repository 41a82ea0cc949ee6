import Testing

@testable import PowaCore

/// `/readyz` of an instance sharing the repository: connected and with its
/// server list is not enough, it must also be able to coordinate, or it
/// does not do its share (it claims nothing, and its workers' snapshots are
/// refused once their leases run out).
@Suite struct CoordinationReadinessTests {
    static let me = InstanceIdentity(id: "me:1:a", hostname: "me", pid: 1)

    @Test func notReadyUntilARoundSucceedsNorWhileRoundsFail() {
        var harness = SupervisorHarness(instance: Self.me)
        _ = harness.startRunning([.sample(1)])
        let before = harness.machine.metrics(now: harness.now).notReadyReason
        #expect(before?.contains("collects nothing until a round succeeds") == true, "\(String(describing: before))")

        _ = harness.send(.coordinationRead(CoordinationView(liveInstances: [Self.me.id], rows: [])))
        _ = harness.performSpawns(harness.send(.serversClaimed([1: 1])))
        #expect(harness.machine.metrics(now: harness.now).notReadyReason == nil)

        harness.advance(by: 10)
        _ = harness.send(.coordinationFailed(reason: "canceling statement due to lock timeout"))
        let failing = harness.machine.metrics(now: harness.now).notReadyReason
        #expect(failing?.contains("coordination with the other instances on the repository is failing") == true)
        #expect(
            failing?.contains("its 1 worker's snapshots are refused once their leases run out") == true,
            "\(String(describing: failing))")

        harness.advance(by: 10)
        _ = harness.send(
            .coordinationRead(
                CoordinationView(
                    liveInstances: [Self.me.id],
                    rows: [
                        OwnershipRow(srvid: 1, owner: Self.me.id, epoch: 1, claimable: false)
                    ])))
        #expect(harness.machine.metrics(now: harness.now).notReadyReason == nil)
    }

    /// Alone on the repository (the state machine without coordination,
    /// as the unit tests run it) nothing changes.
    @Test func withoutCoordinationReadinessIsAsBefore() {
        var harness = SupervisorHarness()
        _ = harness.startRunning([.sample(1)])
        #expect(harness.machine.metrics(now: harness.now).notReadyReason == nil)
    }
}
