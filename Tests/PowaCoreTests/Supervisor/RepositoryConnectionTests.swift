import Testing

@testable import PowaCore

@Suite struct RepositoryConnectionTests {
    @Test func startupConnectsThenReadsServersThenSpawns() {
        var harness = SupervisorHarness()
        let started = harness.send(.started(.init(configuration: harness.collector, path: "/etc/powa-collector.conf")))
        #expect(started.connects == [harness.collector.repositoryDSN])
        #expect(started.count(.setDebugLogging(false)) == 1)
        #expect(started.count(.readServerList) == 0)
        let connected = harness.send(.repositoryConnected)
        #expect(connected == [.readServerList])
        let read = harness.send(.serverListRead([.sample(2), .sample(1)]))
        #expect(read.spawned.map(\.srvid) == [1, 2])
    }

    @Test func startupWarningsAreLogged() {
        var harness = SupervisorHarness()
        let loaded = LoadedConfiguration(
            configuration: harness.collector, path: "p",
            warnings: ["skipped configuration file /etc/x: Permission denied"])
        #expect(harness.send(.started(loaded)).logs(.warning) == loaded.warnings)
    }

    @Test func cannotConnectAtStartupExitsOne() {
        var harness = SupervisorHarness()
        _ = harness.send(.started(.init(configuration: harness.collector, path: "p")))
        let failed = harness.send(.repositoryConnectionFailed(reason: "connection refused"))
        #expect(failed.exitCode == 1)
        #expect(failed.logs(.error).count == 1)
        #expect(harness.machine.isFinished)
    }

    @Test func cannotReadServersAtStartupExitsOne() {
        var harness = SupervisorHarness()
        _ = harness.send(.started(.init(configuration: harness.collector, path: "p")))
        _ = harness.send(.repositoryConnected)
        #expect(harness.send(.serverListReadFailed(reason: "permission denied for table powa_servers")).exitCode == 1)
    }

    /// Lost: one warning, workers untouched, reconnection after 1, 2, 4…
    /// seconds up to 30, failures only at debug level, one info when back.
    @Test func lossIsLoggedOnceRetriedWithBackoffAndRecoveryLoggedOnce() {
        var harness = SupervisorHarness()
        harness.startRunning([])  // no watchdog deadlines in the way
        let lost = harness.send(.repositoryConnectionLost(reason: "server closed the connection unexpectedly"))
        #expect(lost.logs(.warning).count == 1)
        #expect(lost.allMessages.isEmpty && lost.signals.isEmpty)

        var delays: [Duration] = []
        var warnings = 0
        var attemptStart = harness.now
        for _ in 0..<8 {
            let deadline = harness.machine.nextDeadline!
            delays.append(deadline - attemptStart)
            #expect(harness.advance(to: deadline - .milliseconds(1)).connects.isEmpty)
            #expect(harness.advance(to: deadline).connects == [harness.collector.repositoryDSN])
            let failed = harness.send(.repositoryConnectionFailed(reason: "connection refused"))
            warnings += failed.logs(.warning).count + failed.logs(.error).count
            attemptStart = harness.now
        }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30, 30].map(Duration.seconds))
        #expect(warnings == 0)
        _ = harness.advance(to: harness.machine.nextDeadline!)
        let back = harness.send(.repositoryConnected)
        #expect(back.logs(.info).count == 1)
        #expect(back.logs(.warning).isEmpty)

        // A later loss starts again from 1 s and is logged again.
        let lostAgain = harness.send(.repositoryConnectionLost(reason: "terminating connection"))
        #expect(lostAgain.logs(.warning).count == 1)
        #expect(harness.machine.nextDeadline == harness.now + .seconds(1))
    }

    @Test func workersKeepRunningAndAnsweringDuringTheOutage() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.repositoryConnectionLost(reason: "gone"))
        harness.report(1, WorkerStatus(status: "running"))
        var actions: [SupervisorAction] = []
        for _ in 0..<100 {
            let tick = harness.advance(by: 1)
            harness.heartbeatAll()
            if !tick.connects.isEmpty { actions += harness.send(.repositoryConnectionFailed(reason: "down")) }
            actions += tick
        }
        #expect(actions.signals.isEmpty)
        #expect(actions.spawned.isEmpty)
        #expect(harness.status(1) == "running")
    }

    @Test func duplicateLossReportsDoNotDoubleTheDelay() {
        var harness = SupervisorHarness()
        harness.startRunning([])
        _ = harness.send(.repositoryConnectionLost(reason: "a"))
        #expect(harness.send(.repositoryConnectionLost(reason: "b")).isEmpty)
        #expect(harness.send(.repositoryConnectionFailed(reason: "c")).isEmpty)
        #expect(harness.machine.nextDeadline == harness.now + .seconds(1))
    }

    @Test func serverListInterruptedByALossIsReadAgainAfterReconnecting() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        let reloaded = harness.send(
            .configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
        #expect(reloaded.count(.readServerList) == 1)
        _ = harness.send(.repositoryConnectionLost(reason: "gone"))
        #expect(harness.send(.serverListRead([.sample(2)])).isEmpty, "a stale answer is not applied")
        _ = harness.advance(by: 1)
        let back = harness.send(.repositoryConnected)
        #expect(back.count(.readServerList) == 1)
        let applied = harness.performSpawns(harness.send(.serverListRead([.sample(1), .sample(2)])))
        #expect(applied.spawned.map(\.srvid) == [2])
        #expect(applied.logs(.info).contains("reload done"))
    }

    @Test func noReconnectionDuringShutdown() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.repositoryConnectionLost(reason: "gone"))
        let signalledAt = harness.now
        _ = harness.send(.signalReceived(.terminate))
        #expect(
            harness.machine.nextDeadline == signalledAt + harness.timings.stopGracePeriod,
            "no reconnection timer left to wake the shell")
        #expect(harness.advance(by: 5).connects.isEmpty)
        #expect(harness.send(.repositoryConnectionLost(reason: "again")).isEmpty)
    }
}
