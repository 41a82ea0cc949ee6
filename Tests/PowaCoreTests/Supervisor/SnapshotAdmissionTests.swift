import Testing

@testable import PowaCore

/// The machine's admission control and spawn pacing.
@Suite struct SnapshotAdmissionTests {
    static func harness(slots: Int) -> SupervisorHarness {
        var harness = SupervisorHarness()
        harness.collector.maxConcurrentSnapshots = slots
        return harness
    }

    @Test func slotsAreGrantedInOrderAndPassedOnAtRelease() {
        var harness = Self.harness(slots: 2)
        harness.startRunning((1...4).map { .sample($0) })
        var granted: [Int32] = []
        for srvid in 1...4 {
            let actions = harness.send(.workerMessage(pid: harness.pid(srvid), .slotRequest))
            granted += (1...4).map(harness.pid).filter { actions.messages(to: $0) == [.slotGranted] }
        }
        #expect(granted == [harness.pid(1), harness.pid(2)])
        let afterRelease = harness.send(.workerMessage(pid: harness.pid(2), .slotRelease))
        #expect(afterRelease.messages(to: harness.pid(3)) == [.slotGranted])
        #expect(afterRelease.messages(to: harness.pid(4)).isEmpty)
    }

    /// A holder killed mid-snapshot gives its slot to the first in line.
    @Test func aWorkerDyingMidSnapshotReleasesItsSlot() {
        var harness = Self.harness(slots: 1)
        harness.startRunning([.sample(1), .sample(2), .sample(3)])
        _ = harness.send(.workerMessage(pid: harness.pid(1), .slotRequest))
        _ = harness.send(.workerMessage(pid: harness.pid(2), .slotRequest))
        _ = harness.send(.workerMessage(pid: harness.pid(3), .slotRequest))
        let exit = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(9)))
        #expect(exit.messages(to: harness.pid(2)) == [.slotGranted])
        #expect(exit.messages(to: harness.pid(3)).isEmpty)
        // One that dies waiting leaves the line without a grant.
        let waiterExit = harness.send(.workerExited(pid: harness.pid(3), .killedBySignal(9)))
        #expect(waiterExit.allMessages.isEmpty)
        let release = harness.send(.workerMessage(pid: harness.pid(2), .slotRelease))
        #expect(release.allMessages.isEmpty)
    }

    @Test func theWatchdogEndingAHolderReleasesItsSlot() {
        var harness = Self.harness(slots: 1)
        harness.startRunning([.sample(1), .sample(2)])
        harness.report(1, WorkerStatus(status: "running", snapshotRunning: true))
        _ = harness.send(.workerMessage(pid: harness.pid(1), .slotRequest))
        _ = harness.send(.workerMessage(pid: harness.pid(2), .slotRequest))
        var actions: [SupervisorAction] = []
        for _ in 0..<18 {
            actions += harness.advance(by: 1)
            _ = harness.send(.workerMessage(pid: harness.pid(2), .heartbeat))
        }
        #expect(actions.signals.map(\.pid) == [harness.pid(1)])
        #expect(actions.messages(to: harness.pid(2)) == [.slotGranted])
    }

    /// A waiting worker says so, with how long it has waited: overload
    /// shows as lateness on every server, not as dead ones.
    @Test func aWaitingWorkerSaysItIsWaiting() {
        var harness = Self.harness(slots: 1)
        harness.startRunning([.sample(1), .sample(2)])
        harness.report(1, WorkerStatus(status: "running"))
        harness.report(2, WorkerStatus(status: "running"))
        _ = harness.send(.workerMessage(pid: harness.pid(1), .slotRequest))
        _ = harness.send(.workerMessage(pid: harness.pid(2), .slotRequest))
        #expect(harness.status(2) == "running", "a short wait is not worth a word")
        harness.advance(by: 5)
        harness.heartbeatAll()
        #expect(harness.status(2) == "waiting 5 s for a snapshot slot")
        #expect(harness.status(1) == "running")
        _ = harness.send(.workerMessage(pid: harness.pid(1), .slotRelease))
        #expect(harness.status(2) == "running")
    }

    @Test func aReloadRaisingTheLimitGrantsTheWaiters() {
        var harness = Self.harness(slots: 1)
        harness.startRunning([.sample(1), .sample(2), .sample(3)])
        for srvid in 1...3 { _ = harness.send(.workerMessage(pid: harness.pid(srvid), .slotRequest)) }
        _ = harness.send(.signalReceived(.hangup))
        var raised = harness.collector
        raised.maxConcurrentSnapshots = 3
        let reloaded = harness.send(
            .configurationFileReloaded(.success(LoadedConfiguration(configuration: raised, path: "/c"))))
        #expect(reloaded.messages(to: harness.pid(2)) == [.slotGranted])
        #expect(reloaded.messages(to: harness.pid(3)) == [.slotGranted])
    }

    @Test func spawnsArePacedAndEachGraceCountsFromTheRealStart() {
        var timings = SupervisorTimings.standard
        timings.spawnBurst = 20
        timings.spawnsPerSecond = 20
        var harness = SupervisorHarness(timings: timings)
        let first = harness.startRunning((1...50).map { .sample($0) })
        #expect(first.spawned.count == 20)
        var spawned = first.spawned.count
        var seconds = 0.0
        while spawned < 50 {
            harness.now = harness.now + .milliseconds(50)
            seconds += 0.05
            spawned += harness.performSpawns(harness.send(.tick)).spawned.count
        }
        #expect(seconds > 1.4 && seconds < 1.6)
        // The last one started 1.5 s after the first: its grace starts then.
        let lastStart = harness.now
        harness.heartbeatAllBut(50)
        let beforeGrace = harness.advance(to: lastStart + timings.workerStartGrace - .milliseconds(10))
        #expect(!beforeGrace.signals.contains { $0.pid == harness.pid(50) })
    }

    @Test func shutdownForgetsQueuedSpawns() {
        var timings = SupervisorTimings.standard
        timings.spawnBurst = 1
        var harness = SupervisorHarness(timings: timings)
        let first = harness.startRunning([.sample(1), .sample(2)])
        #expect(first.spawned.count == 1)
        _ = harness.send(.signalReceived(.terminate))
        #expect(harness.advance(by: 5).spawned.isEmpty)
        #expect(harness.status(2) == nil)
    }
}
