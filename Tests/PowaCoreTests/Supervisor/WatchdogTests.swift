import Testing
@testable import PowaCore

@Suite struct WatchdogTests {
    @Test func heartbeatsKeepAWorkerAlive() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.runHealthily(for: 600)
        #expect(actions.signals.isEmpty)
        #expect(actions.spawned.isEmpty)
    }

    @Test func theNextDeadlineIsTheWatchdogLimitAfterTheLastMessage() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.machine.nextDeadline == harness.now + harness.timings.watchdogSilenceLimit)
        harness.advance(by: 3)
        harness.heartbeatAll()
        #expect(harness.machine.nextDeadline == harness.now + harness.timings.watchdogSilenceLimit)
    }

    /// Silent for the limit: SIGTERM; still there after the grace: SIGKILL;
    /// once it exits: restarted after the backoff delay.
    @Test func silentWorkerIsTerminatedThenKilledThenRestarted() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        let hung = harness.pid(1)
        let silentSince = harness.now
        // Worker 2 keeps talking, worker 1 does not.
        for _ in 0..<14 {
            #expect(harness.advance(by: 1).signals.isEmpty)
            _ = harness.send(.workerMessage(pid: harness.pid(2), .heartbeat))
        }
        #expect(harness.advance(to: silentSince + 14.99).signals.isEmpty)
        let terminate = harness.advance(to: silentSince + 15)
        #expect(terminate.signals.map(\.pid) == [hung])
        #expect(terminate.signals.map(\.signal) == [.terminate])
        #expect(harness.status(1) == "restarting (no message for 15 s)")
        #expect(harness.status(2) == "starting")

        #expect(harness.advance(to: silentSince + 19.99).signals.isEmpty)
        let kill = harness.advance(to: silentSince + 20)
        #expect(kill.signals.map(\.pid) == [hung])
        #expect(kill.signals.map(\.signal) == [.kill])
        #expect(harness.advance(by: 30).signals.filter { $0.pid == hung }.isEmpty, "SIGKILL is sent once")

        _ = harness.send(.workerExited(pid: hung, .killedBySignal(9)))
        #expect(harness.status(1) == "restarting in 1 s (no message for 15 s)")
        let respawn = harness.performSpawns(harness.advance(by: 1))
        #expect(respawn.spawned.map(\.srvid) == [1])
        #expect(harness.pid(1) != hung)
    }

    @Test func workerExitingAfterSigtermIsNotKilled() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let hung = harness.pid(1)
        harness.advance(by: 15)
        harness.advance(by: 2)
        _ = harness.send(.workerExited(pid: hung, .exited(status: 0)))
        let later = harness.advance(by: 10)
        #expect(later.signals.isEmpty)
        #expect(later.spawned.map(\.srvid) == [1])
    }

    @Test func talkingAgainAfterSigtermDoesNotSaveIt() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let hung = harness.pid(1)
        harness.advance(by: 15)
        _ = harness.send(.workerMessage(pid: hung, .heartbeat))
        _ = harness.send(.workerMessage(pid: hung, .status(WorkerStatus(status: "running"))))
        #expect(harness.advance(by: 5).signals.map(\.signal) == [.kill])
    }

    @Test func malformedLinesAreNotSignsOfLife() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        var signals: [WorkerSignal] = []
        for _ in 0..<15 {
            let malformed = harness.send(.workerMalformedLine(pid: harness.pid(1), reason: "not JSON"))
            #expect(malformed.logs(.warning).count == 1)
            signals += harness.advance(by: 1).signals.map(\.signal)
        }
        #expect(signals == [.terminate])
    }

    @Test func statusMessagesCountAsSignsOfLife() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        for second in 0..<40 {
            #expect(harness.advance(by: 1).signals.isEmpty)
            harness.report(1, WorkerStatus(status: "running", snapshotsTaken: second))
        }
    }

    @Test func aWorkerThatNeverSpeaksAfterSpawnIsCaughtToo() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.advance(by: 15).signals.map(\.signal) == [.terminate])
    }

    @Test func watchdogRestartsFollowTheSameBackoff() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        var delays: [Int] = []
        for _ in 0..<3 {
            harness.advance(by: 15)  // SIGTERM (uptime 15 s: not healthy)
            _ = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(15)))
            let exitedAt = harness.now
            let deadline = harness.machine.nextDeadline!
            delays.append(Int(deadline - exitedAt))
            _ = harness.performSpawns(harness.advance(to: deadline))
        }
        #expect(delays == [1, 2, 4])
    }
}
