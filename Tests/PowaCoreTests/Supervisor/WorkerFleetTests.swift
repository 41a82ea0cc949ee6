import Testing

@testable import PowaCore

/// The fleet: routing to one worker by pid or server id, the shared slots
/// and spawn queue, retiring processes, and stopping.
@Suite struct WorkerFleetTests {
    static let t0 = MonotonicInstant(seconds: 100)

    static func timings() -> SupervisorTimings {
        var timings = SupervisorTimings.standard
        timings.spawnBurst = 1_000
        return timings
    }

    static func wanted(_ ids: [Int]) -> [Int: WorkerConfiguration] {
        ServerRow.workerConfigurations(
            ids.map { .sample($0) }, collector: CollectorConfiguration(repositoryDSN: "host=repo"))
    }

    /// A fleet of `ids`, each spawned as pid 100 + id.
    static func running(_ ids: [Int], capacity: Int = 2) -> WorkerFleet {
        var fleet = WorkerFleet(timings: timings())
        _ = fleet.setSlotCapacity(capacity, now: t0)
        let actions = fleet.apply(wanted(ids), now: t0)
        #expect(actions.spawned.map(\.srvid) == ids)
        for id in ids { _ = fleet.spawned(srvid: id, pid: Int32(100 + id), now: t0) }
        return fleet
    }

    @Test func aLineFromAStrangerOrAnOldProcessIsIgnored() {
        var fleet = Self.running([1])
        #expect(fleet.message(pid: 999, .heartbeat, now: Self.t0).isEmpty)
        #expect(fleet.exited(pid: 999, .exited(status: 0), now: Self.t0).isEmpty)
        #expect(fleet.checked(pid: 999, nil, now: Self.t0).isEmpty)
        #expect(fleet.status(of: 1, now: Self.t0) == "starting")
    }

    @Test func slotsAreGrantedInOrderAndMirroredInTheStatus() {
        var fleet = Self.running([1, 2, 3, 4], capacity: 2)
        #expect(fleet.message(pid: 101, .slotRequest, now: Self.t0).messages(to: 101) == [.slotGranted])
        #expect(fleet.message(pid: 102, .slotRequest, now: Self.t0).messages(to: 102) == [.slotGranted])
        #expect(fleet.message(pid: 103, .slotRequest, now: Self.t0).allMessages.isEmpty)
        #expect(fleet.message(pid: 104, .slotRequest, now: Self.t0).allMessages.isEmpty)
        #expect(fleet.status(of: 3, now: Self.t0 + .seconds(2)) == "waiting 2 s for a snapshot slot")
        let released = fleet.message(pid: 101, .slotRelease, now: Self.t0 + .seconds(2))
        #expect(released.messages(to: 103) == [.slotGranted])
        #expect(fleet.status(of: 3, now: Self.t0 + .seconds(3)) == "starting")
        #expect(fleet.status(of: 4, now: Self.t0 + .seconds(3)) == "waiting 3 s for a snapshot slot")
    }

    @Test func aWorkerDyingMidSnapshotGivesItsSlotToTheNext() {
        var fleet = Self.running([1, 2], capacity: 1)
        _ = fleet.message(pid: 101, .slotRequest, now: Self.t0)
        _ = fleet.message(pid: 102, .slotRequest, now: Self.t0)
        let exit = fleet.exited(pid: 101, .killedBySignal(9), now: Self.t0 + .seconds(1))
        #expect(exit.messages(to: 102) == [.slotGranted])
        #expect(fleet.slots.holderCount == 1 && fleet.slots.waitingCount == 0)
    }

    @Test func aSpawnForARemovedServerIsStoppedOnArrival() {
        var fleet = WorkerFleet(timings: Self.timings())
        _ = fleet.apply(Self.wanted([1]), now: Self.t0)
        _ = fleet.apply([:], now: Self.t0)
        let late = fleet.spawned(srvid: 1, pid: 101, now: Self.t0)
        #expect(late.messages(to: 101) == [.stop])
        #expect(fleet.status(of: 1, now: Self.t0) == "stopping")
        #expect(!fleet.isEmpty)
        #expect(
            fleet.exited(pid: 101, .exited(status: 0), now: Self.t0).logs(.info) == [
                "worker stopped (exited with status 0)"
            ])
        #expect(fleet.isEmpty)
        #expect(fleet.status(of: 1, now: Self.t0) == nil)
    }

    @Test func aRemovedServersProcessIsKilledAfterTheGrace() {
        var fleet = Self.running([1])
        let removed = fleet.apply([:], now: Self.t0)
        #expect(removed.messages(to: 101) == [.stop])
        #expect(removed.logs(.info).contains("server 1 removed, stopping its worker"))
        #expect(fleet.nextDeadline == Self.t0 + Self.timings().stopGracePeriod)
        let kill = fleet.tick(now: Self.t0 + Self.timings().stopGracePeriod)
        #expect(kill.signals.map(\.signal) == [.kill])
        #expect(fleet.tick(now: Self.t0 + .seconds(60)).signals.isEmpty)
    }

    @Test func stoppingSendsStopToEveryProcessAndKillsTheRestAtTheDeadline() {
        var fleet = Self.running([1, 2])
        let killAt = Self.t0 + .seconds(10)
        let stop = fleet.stop(killAt: killAt, now: Self.t0)
        #expect(stop.allMessages == [.stop, .stop])
        #expect(fleet.statuses(now: Self.t0) == [1: "stopping", 2: "stopping"])
        _ = fleet.exited(pid: 101, .exited(status: 0), now: Self.t0 + .seconds(1))
        let kill = fleet.killRemaining()
        #expect(kill.signals.map(\.pid) == [102])
    }

    @Test func aSpawnArrivingWhileStoppingIsStoppedWithTheSameDeadline() {
        var fleet = WorkerFleet(timings: Self.timings())
        _ = fleet.apply(Self.wanted([1]), now: Self.t0)
        let killAt = Self.t0 + .seconds(10)
        #expect(fleet.stop(killAt: killAt, now: Self.t0).isEmpty, "the spawn in flight is kept")
        #expect(fleet.spawned(srvid: 1, pid: 101, now: Self.t0 + .seconds(1)).messages(to: 101) == [.stop])
        #expect(fleet.nextDeadline == killAt)
        #expect(fleet.spawnFailed(srvid: 1, reason: "late", now: Self.t0).isEmpty)
    }

    @Test func aFailedSpawnWhileStoppingIsForgotten() {
        var fleet = WorkerFleet(timings: Self.timings())
        _ = fleet.apply(Self.wanted([1]), now: Self.t0)
        _ = fleet.stop(killAt: Self.t0 + .seconds(10), now: Self.t0)
        _ = fleet.spawnFailed(srvid: 1, reason: "fork failed", now: Self.t0)
        #expect(fleet.isEmpty)
    }

    @Test func spawnsArePacedAndTheRestWaitForThePacer() {
        var timings = SupervisorTimings.standard
        timings.spawnBurst = 2
        timings.spawnsPerSecond = 10
        var fleet = WorkerFleet(timings: timings)
        #expect(fleet.apply(Self.wanted([1, 2, 3, 4]), now: Self.t0).spawned.map(\.srvid) == [1, 2])
        #expect(fleet.nextDeadline == Self.t0 + .milliseconds(100))
        #expect(fleet.tick(now: Self.t0 + .milliseconds(100)).spawned.map(\.srvid) == [3])
        #expect(fleet.tick(now: Self.t0 + .milliseconds(200)).spawned.map(\.srvid) == [4])
        #expect(fleet.nextDeadline == nil)
    }

    @Test func oneServersStatusIsFoundWithoutTheOthers() {
        var fleet = Self.running([1, 2])
        _ = fleet.message(pid: 102, .status(WorkerStatus(status: "running")), now: Self.t0)
        #expect(fleet.status(of: 2, now: Self.t0) == "running")
        #expect(fleet.status(of: 3, now: Self.t0) == nil)
        #expect(fleet.statuses(now: Self.t0) == [1: "starting", 2: "running"])
    }

    @Test func requestsForAnUnknownServerAreRefused() {
        var fleet = Self.running([1])
        #expect(fleet.forceSnapshot(srvid: 9, now: Self.t0).answer == .refused("no worker for server id 9"))
        #expect(
            fleet.refreshCatalogs(srvid: 9, dbnames: [], now: Self.t0).answer == .refused("no worker for server id 9"))
    }

    @Test func aLowerSlotCapacityTakesNoSlotBack() {
        var fleet = Self.running([1, 2, 3], capacity: 2)
        _ = fleet.message(pid: 101, .slotRequest, now: Self.t0)
        _ = fleet.message(pid: 102, .slotRequest, now: Self.t0)
        _ = fleet.message(pid: 103, .slotRequest, now: Self.t0)
        #expect(fleet.setSlotCapacity(1, now: Self.t0).isEmpty)
        #expect(fleet.message(pid: 101, .slotRelease, now: Self.t0).allMessages.isEmpty)
        #expect(fleet.message(pid: 102, .slotRelease, now: Self.t0).messages(to: 103) == [.slotGranted])
    }
}
