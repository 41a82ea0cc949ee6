import Testing

@testable import PowaCore

@Suite struct WorkerRestartTests {
    @Test func backoffDoublesFromOneSecondAndStopsAtSixty() {
        var backoff = ExponentialBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(60))
        let delays = (0..<10).map { _ in backoff.nextDelay() }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60].map(Duration.seconds))
        backoff.reset()
        #expect(backoff.nextDelay() == .seconds(1))
    }

    @Test func backoffNeverOverflowsAfterManyFailures() {
        var backoff = ExponentialBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(30))
        for _ in 0..<10_000 { _ = backoff.nextDelay() }
        #expect(backoff.nextDelay() == .seconds(30))
    }

    /// A worker that dies at once, again and again, is restarted after 1, 2,
    /// 4… seconds, never more than 60, and not a moment earlier.
    @Test func crashLoopRestartsWithExponentialBackoff() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        var delays: [Duration] = []
        for _ in 0..<9 {
            let crashedAt = harness.now
            let actions = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 3)))
            #expect(actions.spawned.isEmpty)
            let deadline = try! #require(harness.machine.nextDeadline)
            let delay = deadline - crashedAt
            #expect(harness.status(1) == "restarting in \(Int(delay.inSeconds)) s (exited with status 3)")
            #expect(harness.advance(to: deadline - .milliseconds(10)).spawned.isEmpty)
            let respawn = harness.advance(to: deadline)
            #expect(respawn.spawned.map(\.srvid) == [1])
            let started = harness.performSpawns(respawn)
            #expect(started.messages(to: harness.pid(1)).count == 1)
            delays.append(delay)
        }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60].map(Duration.seconds))
    }

    @Test func backoffStartsOverAfterAMinuteOfHealth() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        // Three quick crashes: next delay would be 8 s.
        for _ in 0..<3 {
            _ = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(11)))
            _ = harness.performSpawns(harness.advance(to: harness.machine.nextDeadline!))
        }
        _ = harness.runHealthily(for: 60)
        _ = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(9)))
        #expect(harness.status(1) == "restarting in 1 s (killed by signal 9)")
    }

    @Test func backoffKeepsGrowingWhenTheWorkerDiesBeforeAMinute() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 1)))  // 1 s
        _ = harness.performSpawns(harness.advance(to: harness.machine.nextDeadline!))
        _ = harness.runHealthily(for: 59)
        _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 1)))
        #expect(harness.status(1) == "restarting in 2 s (exited with status 1)")
    }

    @Test func exitWithStatusZeroUnasked() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 0)))
        #expect(harness.status(1) == "restarting in 1 s (exited with status 0)")
        #expect(
            actions.logs(.error) == ["exited with status 0; restarting the worker in 1 s; its last log lines say why"])
    }

    @Test func restartedWorkerGetsItsStartMessageWithCurrentConfiguration() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let oldPid = harness.pid(1)
        _ = harness.send(.workerExited(pid: oldPid, .killedBySignal(9)))
        let actions = harness.performSpawns(harness.advance(by: 1))
        let expected = ServerRow.sample(1).workerConfiguration(collector: harness.collector)
        #expect(actions.spawned == [expected])
        #expect(harness.pid(1) != oldPid)
        #expect(actions.messages(to: harness.pid(1)) == [.start(expected)])
        #expect(harness.status(1) == "starting")
    }

    @Test func spawnFailureIsRetriedWithBackoff() {
        var harness = SupervisorHarness()
        var actions = harness.send(.started(.init(configuration: harness.collector, path: "p")))
        actions = harness.send(.repositoryConnected)
        actions = harness.send(.serverListRead([.sample(7)]))
        #expect(actions.spawned.map(\.srvid) == [7])
        _ = harness.send(.workerSpawnFailed(srvid: 7, reason: "No such file or directory"))
        #expect(harness.status(7) == "restarting in 1 s (could not start: No such file or directory)")
        #expect(harness.advance(by: 1).spawned.map(\.srvid) == [7])
        _ = harness.send(.workerSpawnFailed(srvid: 7, reason: "No such file or directory"))
        #expect(harness.status(7) == "restarting in 2 s (could not start: No such file or directory)")
    }

    @Test func restartingStatusCountsDownInWholeSeconds() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        for _ in 0..<4 {  // next delay: 16 s
            _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 2)))
            _ = harness.performSpawns(harness.advance(to: harness.machine.nextDeadline!))
        }
        _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 2)))
        #expect(harness.status(1) == "restarting in 16 s (exited with status 2)")
        harness.advance(by: 5.5)
        #expect(harness.status(1) == "restarting in 11 s (exited with status 2)")
        harness.advance(by: 10.4)
        #expect(harness.status(1) == "restarting in 1 s (exited with status 2)")
    }

    @Test func exitOfAnUnknownPidChangesNothing() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.send(.workerExited(pid: 999_999, .killedBySignal(9)))
        #expect(actions.isEmpty)
        #expect(harness.status(1) == "starting")
    }

    @Test func linesFromAReplacedProcessAreIgnored() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let oldPid = harness.pid(1)
        _ = harness.send(.workerExited(pid: oldPid, .killedBySignal(9)))
        _ = harness.performSpawns(harness.advance(by: 1))
        _ = harness.send(.workerMessage(pid: oldPid, .status(WorkerStatus(status: "zombie"))))
        #expect(harness.status(1) == "starting")
    }

    @Test func eachWorkerHasItsOwnBackoff() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        for _ in 0..<3 {
            _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 1)))
            _ = harness.performSpawns(harness.advance(to: harness.machine.nextDeadline!))
        }
        _ = harness.send(.workerExited(pid: harness.pid(2), .exited(status: 1)))
        #expect(harness.status(2) == "restarting in 1 s (exited with status 1)")
    }
}
