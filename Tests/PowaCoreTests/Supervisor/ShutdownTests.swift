import Testing

@testable import PowaCore

@Suite struct ShutdownTests {
    @Test(arguments: [SupervisorSignal.terminate, .interrupt])
    func stopsEveryWorkerThenKillsLeftoversAfterTenSecondsAndExitsZero(signal: SupervisorSignal) {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2), .sample(3)])
        let pids = [1, 2, 3].map(harness.pid)
        let stop = harness.send(.signalReceived(signal))
        for pid in pids { #expect(stop.messages(to: pid) == [.stop]) }
        #expect(stop.exitCode == nil)
        #expect(harness.machine.workersStatus(now: harness.now) == [1: "stopping", 2: "stopping", 3: "stopping"])

        _ = harness.send(.workerExited(pid: pids[0], .exited(status: 0)))
        #expect(harness.advance(by: 9.99).signals.isEmpty)
        let end = harness.advance(to: harness.machine.nextDeadline!)
        #expect(end.signals.map(\.pid).sorted() == [pids[1], pids[2]])
        #expect(end.signals.allSatisfy { $0.signal == .kill })
        #expect(end.exitCode == 0)
        #expect(end.last == .exit(code: 0))
        #expect(harness.machine.isFinished)
        #expect(harness.send(.workerExited(pid: pids[1], .killedBySignal(9))).isEmpty)
    }

    @Test func theDeadlineIsTenSecondsAfterTheSignal() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let signalledAt = harness.now
        _ = harness.send(.signalReceived(.terminate))
        #expect(harness.machine.nextDeadline == signalledAt + .seconds(10))
        #expect(harness.advance(to: signalledAt + .milliseconds(9_990)).exitCode == nil)
        #expect(harness.advance(to: signalledAt + .seconds(10)).exitCode == 0)
    }

    @Test func exitsAsSoonAsTheLastWorkerIsGone() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        _ = harness.send(.signalReceived(.terminate))
        #expect(harness.send(.workerExited(pid: harness.pid(1), .exited(status: 0))).exitCode == nil)
        let last = harness.send(.workerExited(pid: harness.pid(2), .exited(status: 0)))
        #expect(last.exitCode == 0)
        #expect(last.signals.isEmpty)
    }

    @Test func withoutWorkersExitsAtOnce() {
        var harness = SupervisorHarness()
        harness.startRunning([])
        #expect(harness.send(.signalReceived(.interrupt)).exitCode == 0)
    }

    @Test func beforeTheServerListExitsAtOnce() {
        var harness = SupervisorHarness()
        _ = harness.send(.started(.init(configuration: harness.collector, path: "p")))
        #expect(harness.send(.signalReceived(.terminate)).exitCode == 0)
    }

    @Test func crashedWorkersAreNotRestartedDuringShutdown() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 1)))
        let stop = harness.send(.signalReceived(.terminate))
        #expect(stop.allMessages == [.stop])
        let after = harness.advance(by: 5)
        #expect(after.spawned.isEmpty)
        #expect(harness.send(.workerExited(pid: harness.pid(2), .killedBySignal(15))).exitCode == 0)
    }

    @Test func aWorkerCrashingDuringShutdownIsNotRestarted() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.terminate))
        let exit = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(11)))
        #expect(exit.spawned.isEmpty)
        #expect(exit.exitCode == 0)
    }

    @Test func aSecondSignalDoesNotPostponeTheDeadline() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.terminate))
        harness.advance(by: 6)
        let again = harness.send(.signalReceived(.interrupt))
        #expect(again.allMessages.isEmpty)
        #expect(harness.advance(by: 4).exitCode == 0)
    }

    @Test func hangupDuringShutdownDoesNotReload() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.terminate))
        #expect(harness.send(.signalReceived(.hangup)).count(.reloadConfigurationFile) == 0)
        #expect(harness.ask("RELOAD chan") == ["RELOAD ERROR the collector is shutting down"])
        #expect(harness.ask("FORCE_SNAPSHOT chan 1") == ["FORCE_SNAPSHOT ERROR the collector is shutting down"])
    }

    @Test func workerBeingSpawnedAtShutdownIsStoppedWhenItArrives() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 1)))
        #expect(harness.advance(by: 1).spawned.map(\.srvid) == [1])
        let stop = harness.send(.signalReceived(.terminate))
        #expect(stop.exitCode == nil, "waits for the spawn in flight")
        #expect(harness.status(1) == "stopping")
        let arrived = harness.send(.workerSpawned(srvid: 1, pid: 777))
        #expect(arrived.messages(to: 777) == [.stop])
        #expect(harness.send(.workerExited(pid: 777, .exited(status: 0))).exitCode == 0)
    }

    @Test func hungWorkerKeepsItsEarlierKillTime() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.advance(by: harness.timings.workerStartGrace)  // SIGTERM, SIGKILL due in 5 s
        _ = harness.send(.signalReceived(.terminate))
        let kill = harness.advance(by: 5)
        #expect(kill.signals.map(\.signal) == [.kill])
        #expect(kill.exitCode == nil)
        #expect(harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(9))).exitCode == 0)
    }

    @Test func statusIsStillAnsweredDuringShutdown() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.terminate))
        #expect(harness.ask("WORKERS_STATUS chan") == [#"WORKERS_STATUS OK {"1":"stopping"}"#])
    }
}
