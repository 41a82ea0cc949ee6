import Testing

@testable import PowaCore

/// The watchdog: a worker is overdue once silent past the heartbeat it
/// promised (3 s in a snapshot, 60 s idle, the start grace before its first
/// line) plus the silence limit; then its pipe is drained and its process
/// sampled before any verdict. Slow is not dead.
@Suite struct WatchdogTests {
    static let idle = WorkerStatus(status: "running")
    static let snapshotting = WorkerStatus(status: "running", snapshotRunning: true, lastSnapshotStart: 1)

    @Test func heartbeatsKeepAWorkerAlive() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.runHealthily(for: 600)
        #expect(actions.signals.isEmpty)
        #expect(actions.spawned.isEmpty)
    }

    @Test func theDeadlineFollowsWhatTheWorkerPromised() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.machine.nextDeadline == harness.now + harness.timings.workerStartGrace)
        harness.advance(by: 3)
        harness.report(1, Self.idle)
        #expect(
            harness.machine.nextDeadline
                == harness.now + .fromSeconds(WorkerMessage.idleHeartbeatInterval)
                + harness.timings.watchdogSilenceLimit)
        harness.report(1, Self.snapshotting)
        #expect(
            harness.machine.nextDeadline
                == harness.now + .fromSeconds(WorkerMessage.heartbeatInterval) + harness.timings.watchdogSilenceLimit)
    }

    /// Silent past its promise and stopped: SIGTERM; still there after the
    /// grace: SIGKILL; once it exits: restarted after the backoff delay.
    @Test func silentStoppedWorkerIsTerminatedThenKilledThenRestarted() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        let hung = harness.pid(1)
        harness.report(1, Self.snapshotting)
        let silentSince = harness.now
        for _ in 0..<17 {
            #expect(harness.advance(by: 1).signals.isEmpty)
            _ = harness.send(.workerMessage(pid: harness.pid(2), .heartbeat))
        }
        #expect(harness.advance(to: silentSince + .milliseconds(17_990)).signals.isEmpty)
        let terminate = harness.advance(to: silentSince + .seconds(18))
        #expect(terminate.contains(.checkWorker(pid: hung)))
        #expect(terminate.signals.map(\.pid) == [hung])
        #expect(terminate.signals.map(\.signal) == [.terminate])
        #expect(terminate.logs(.error).first?.contains("its process is stopped") == true)
        #expect(harness.status(1) == "restarting (no message for 18 s)")
        #expect(harness.status(2) == "starting")

        #expect(harness.advance(to: silentSince + .milliseconds(22_990)).signals.isEmpty)
        let kill = harness.advance(to: silentSince + .seconds(23))
        #expect(kill.signals.map(\.pid) == [hung])
        #expect(kill.signals.map(\.signal) == [.kill])
        #expect(harness.advance(by: 30).signals.filter { $0.pid == hung }.isEmpty, "SIGKILL is sent once")

        _ = harness.send(.workerExited(pid: hung, .killedBySignal(9)))
        #expect(harness.status(1) == "restarting in 1 s (no message for 18 s)")
        let respawn = harness.performSpawns(harness.advance(by: 1))
        #expect(respawn.spawned.map(\.srvid) == [1])
        #expect(harness.pid(1) != hung)
    }

    /// A heartbeat waiting unread in the pipe (the supervisor was busy) is
    /// read before the verdict and saves the worker.
    @Test func aMessageWaitingInThePipeSparesTheWorker() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, Self.snapshotting)
        harness.unreadLines[harness.pid(1)] = [.heartbeat]
        let check = harness.advance(by: 18)
        #expect(check.contains(.checkWorker(pid: harness.pid(1))))
        #expect(check.signals.isEmpty)
        #expect(harness.machine.nextDeadline == harness.now + .seconds(18))
        #expect(harness.status(1) == "running")
    }

    /// Silent but using CPU (a starved machine): extended while it makes
    /// progress, up to the limit, then ended.
    @Test func aSlowWorkerUsingCPUIsSparedUpToALimit() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let pid = harness.pid(1)
        harness.report(1, Self.snapshotting)
        var signals: [WorkerSignal] = []
        var warnings: [String] = []
        var elapsed = harness.now
        for round in 0..<harness.timings.maximumSlowExtensions {
            harness.processSamples[pid] = ProcessSample(state: "R", cpuTicks: 100 * (round + 1))
            let actions = harness.advance(to: harness.machine.nextDeadline!)
            elapsed = harness.now
            signals += actions.signals.map(\.signal)
            warnings += actions.logs(.warning)
        }
        #expect(signals.isEmpty)
        #expect(warnings.count == harness.timings.maximumSlowExtensions - 1)
        #expect(warnings.first?.contains("slow, not dead") == true)
        harness.processSamples[pid] = ProcessSample(state: "R", cpuTicks: 10_000)
        let last = harness.advance(to: harness.machine.nextDeadline!)
        #expect(last.signals.map(\.signal) == [.terminate])
        #expect(harness.now - elapsed == harness.timings.slowWorkerExtension)
    }

    /// Asleep and using no CPU across two checks: hung, ended after one
    /// extension.
    @Test func aSleepingWorkerWithoutProgressIsEnded() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let pid = harness.pid(1)
        harness.report(1, Self.snapshotting)
        harness.processSamples[pid] = ProcessSample(state: "S", cpuTicks: 7)
        #expect(harness.advance(by: 18).signals.isEmpty)
        let verdict = harness.advance(by: harness.timings.slowWorkerExtension)
        #expect(verdict.signals.map(\.signal) == [.terminate])
        #expect(verdict.logs(.error).first?.contains("not using any CPU") == true)
    }

    @Test func aSlowWorkerThatSpeaksAgainIsForgiven() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let pid = harness.pid(1)
        harness.report(1, Self.snapshotting)
        harness.processSamples[pid] = ProcessSample(state: "R", cpuTicks: 1)
        harness.advance(by: 18)
        let back = harness.send(.workerMessage(pid: pid, .heartbeat))
        #expect(back.logs(.info).first?.contains("slow, not dead") == true)
        #expect(harness.machine.nextDeadline == harness.now + .seconds(18))
    }

    @Test func anIdleWorkerIsSuspectedOnlyAfterItsLongInterval() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, Self.idle)
        let limit = Duration.fromSeconds(WorkerMessage.idleHeartbeatInterval) + harness.timings.watchdogSilenceLimit
        #expect(limit > .seconds(30))
        #expect(harness.advance(by: limit - .milliseconds(100)).signals.isEmpty)
        #expect(harness.advance(by: 0.1).signals.map(\.signal) == [.terminate])
    }

    @Test func workerExitingAfterSigtermIsNotKilled() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let hung = harness.pid(1)
        harness.advance(by: harness.timings.workerStartGrace)
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
        harness.advance(by: harness.timings.workerStartGrace)
        _ = harness.send(.workerMessage(pid: hung, .heartbeat))
        _ = harness.send(.workerMessage(pid: hung, .status(WorkerStatus(status: "running"))))
        #expect(harness.advance(by: 5).signals.map(\.signal) == [.kill])
    }

    @Test func malformedLinesAreNotSignsOfLife() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        var signals: [WorkerSignal] = []
        for _ in 0..<Int(harness.timings.workerStartGrace.inSeconds) {
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
            harness.report(1, WorkerStatus(status: "running", snapshotRunning: true, snapshotsTaken: second))
        }
    }

    @Test func aWorkerThatNeverSpeaksAfterSpawnIsCaughtAfterTheStartGrace() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.advance(by: harness.timings.workerStartGrace - .milliseconds(100)).signals.isEmpty)
        #expect(harness.advance(by: 0.1).signals.map(\.signal) == [.terminate])
    }

    @Test func watchdogRestartsFollowTheSameBackoff() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        var delays: [Int] = []
        for _ in 0..<3 {
            harness.advance(by: harness.timings.workerStartGrace)  // SIGTERM (not up long enough to be healthy)
            _ = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(15)))
            let exitedAt = harness.now
            let deadline = harness.machine.nextDeadline!
            delays.append(Int((deadline - exitedAt).inSeconds))
            _ = harness.performSpawns(harness.advance(to: deadline))
        }
        #expect(delays == [1, 2, 4])
    }

    /// The supervisor's own stall is reported, and the machine only logs it
    /// (the shell's clock already left the gap out).
    @Test func aStalledLoopIsLoggedAndKillsNobody() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.send(.loopStalled(.seconds(35)))
        #expect(actions.signals.isEmpty)
        #expect(actions.logs(.warning).first?.contains("not counted against the workers") == true)
    }
}
