import Testing

@testable import PowaCore

@Suite struct ReloadTests {
    /// Runs a reload to the end: the configuration file gives `collector`
    /// (the current one when nil) and the repository gives `rows`.
    static func reload(
        _ harness: inout SupervisorHarness, rows: [ServerRow], collector: CollectorConfiguration? = nil
    ) -> [SupervisorAction] {
        var actions = harness.send(.signalReceived(.hangup))
        #expect(actions.count(.reloadConfigurationFile) == 1)
        if let collector { harness.collector = collector }
        actions += harness.send(
            .configurationFileReloaded(
                .success(
                    LoadedConfiguration(configuration: harness.collector, path: "/etc/powa-collector.conf"))))
        if !actions.connects.isEmpty { actions += harness.send(.repositoryConnected) }
        #expect(actions.count(.readServerList) == 1)
        actions += harness.performSpawns(harness.send(.serverListRead(rows)))
        return actions
    }

    @Test func diffStartsAddedStopsRemovedReloadsChangedAndLeavesUnchangedAlone() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2), .sample(3)])
        let unchanged = harness.pid(1)
        let removed = harness.pid(2)
        let changed = harness.pid(3)

        let actions = Self.reload(&harness, rows: [.sample(1), .sample(3, frequency: 60), .sample(4)])

        let added = ServerRow.sample(4).workerConfiguration(collector: harness.collector)
        let changedConfiguration = ServerRow.sample(3, frequency: 60).workerConfiguration(collector: harness.collector)
        #expect(actions.spawned == [added])
        #expect(actions.messages(to: harness.pid(4)) == [.start(added)])
        #expect(actions.messages(to: removed) == [.stop])
        #expect(actions.messages(to: changed) == [.reload(changedConfiguration), .updateVersions])
        #expect(actions.messages(to: unchanged) == [.updateVersions])
        #expect(actions.signals.isEmpty)
        #expect(harness.pid(1) == unchanged, "the unchanged worker keeps its process")
        #expect(harness.pid(3) == changed, "a changed worker reloads in place")
        #expect(actions.logs(.info).contains("reload done"))
        #expect(harness.status(2) == "stopping")
    }

    @Test func removedWorkerIsKilledAfterTheGracePeriodAndThenForgotten() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        let removed = harness.pid(2)
        _ = Self.reload(&harness, rows: [.sample(1)])
        #expect(harness.advance(by: 9.9).signals.isEmpty)
        harness.heartbeatAll()
        let kill = harness.advance(by: 0.1)
        #expect(kill.signals.map(\.pid) == [removed])
        #expect(kill.signals.map(\.signal) == [.kill])
        #expect(kill.spawned.isEmpty, "a removed server is not restarted")
        _ = harness.send(.workerExited(pid: removed, .killedBySignal(9)))
        #expect(harness.machine.workersStatus(now: harness.now).keys.sorted() == [1])
        #expect(harness.advance(by: 120).spawned.isEmpty)
    }

    @Test func removedWorkerThatStopsInTimeIsNotKilled() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        let removed = harness.pid(2)
        _ = Self.reload(&harness, rows: [.sample(1)])
        _ = harness.send(.workerExited(pid: removed, .exited(status: 0)))
        harness.heartbeatAll()
        #expect(harness.advance(by: 10).signals.isEmpty)
        #expect(harness.status(2) == nil)
    }

    @Test func rowsThatAreNotCollectedCountAsRemoved() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        let deactivated = harness.pid(2)
        let actions = Self.reload(&harness, rows: [.sample(0), .sample(1), .sample(2, frequency: -1)])
        #expect(actions.spawned.isEmpty, "the repository itself (id 0) is never collected")
        #expect(actions.messages(to: deactivated) == [.stop])
    }

    @Test func noUpdateVersionsForWorkersWithoutAProcess() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        _ = harness.send(.workerExited(pid: harness.pid(2), .exited(status: 1)))
        let crashed = harness.pid(2)
        let actions = Self.reload(&harness, rows: [.sample(1), .sample(2)])
        #expect(actions.messages(to: crashed).isEmpty)
        #expect(actions.messages(to: harness.pid(1)) == [.updateVersions])
    }

    @Test func configurationChangedWhileWaitingToRestartIsUsedByTheNextProcess() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 1)))
        let actions = Self.reload(&harness, rows: [.sample(1, port: 5433)])
        #expect(actions.allMessages.isEmpty)
        #expect(harness.status(1) == "restarting in 1 s (exited with status 1)")
        let respawn = harness.advance(by: 1)
        #expect(respawn.spawned.map(\.server.port) == [5433])
        #expect(respawn.spawned.map(\.name) == ["10.0.0.1:5433"])
    }

    @Test func serverAliasSettingRenamesWorkers() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1, alias: "prod"), .sample(2, alias: "")])
        let aliased = harness.pid(1)
        let unaliased = harness.pid(2)
        var collector = harness.collector
        collector.useServerAlias = true
        let actions = Self.reload(
            &harness, rows: [.sample(1, alias: "prod"), .sample(2, alias: "")], collector: collector)
        let renamed = ServerRow.sample(1, alias: "prod").workerConfiguration(collector: collector)
        #expect(renamed.name == "prod")
        #expect(actions.messages(to: aliased) == [.reload(renamed), .updateVersions])
        #expect(actions.messages(to: unaliased) == [.updateVersions], "an empty alias keeps host:port")
    }

    @Test func debugChangeSwitchesLoggingAndReloadsEveryWorker() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        var collector = harness.collector
        collector.debug = true
        let actions = Self.reload(&harness, rows: [.sample(1)], collector: collector)
        #expect(actions.count(.setDebugLogging(true)) == 1)
        #expect(
            actions.messages(to: harness.pid(1)).first
                == .reload(ServerRow.sample(1).workerConfiguration(collector: collector)))
    }

    @Test func repositoryDSNChangeReconnectsBeforeReadingTheServerList() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        let newDSN = "host=newrepo dbname=powa"
        harness.collector.repositoryDSN = newDSN
        let reloaded = harness.send(
            .configurationFileReloaded(
                .success(
                    LoadedConfiguration(configuration: harness.collector, path: "/etc/powa-collector.conf"))))
        #expect(reloaded.connects == [newDSN])
        #expect(reloaded.count(.readServerList) == 0, "the list comes from the new repository")
        let connected = harness.send(.repositoryConnected)
        #expect(connected.count(.readServerList) == 1)
        let applied = harness.send(.serverListRead([.sample(1)]))
        let expected = ServerRow.sample(1).workerConfiguration(collector: harness.collector)
        #expect(expected.repositoryDSN == newDSN)
        #expect(applied.messages(to: harness.pid(1)) == [.reload(expected), .updateVersions])
    }

    @Test func badConfigurationFileKeepsEverythingAsItWas() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        let error = ConfigurationError.invalidJSON(
            path: "/etc/powa-collector.conf",
            JSONSyntaxError(line: 3, column: 5, offset: 40, problem: "unexpected '}'"))
        let actions = harness.send(.configurationFileReloaded(.failure(error)))
        #expect(actions.count(.readServerList) == 0)
        #expect(actions.allMessages.isEmpty)
        #expect(actions.logs(.error).count == 1)
        #expect(actions.logs(.error).first?.contains("/etc/powa-collector.conf at line 3, column 5") == true)
        // A later reload works.
        let again = Self.reload(&harness, rows: [.sample(1), .sample(2)])
        #expect(again.spawned.map(\.srvid) == [2])
    }

    @Test func serverListFailureOnReloadChangesNothing() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        _ = harness.send(.configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
        let actions = harness.send(.serverListReadFailed(reason: "relation \"powa_servers\" does not exist"))
        #expect(actions.exitCode == nil)
        #expect(actions.allMessages.isEmpty)
        #expect(actions.logs(.error).count == 1)
        #expect(harness.status(1) == "starting")
        #expect(harness.send(.signalReceived(.hangup)).count(.reloadConfigurationFile) == 1)
    }

    @Test func reloadRequestsDuringAReloadMakeOneMoreReload() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.send(.signalReceived(.hangup)).count(.reloadConfigurationFile) == 1)
        #expect(harness.send(.signalReceived(.hangup)).count(.reloadConfigurationFile) == 0)
        #expect(harness.notify("RELOAD -").count(.reloadConfigurationFile) == 0)
        _ = harness.send(.configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
        let finished = harness.send(.serverListRead([.sample(1)]))
        #expect(finished.count(.reloadConfigurationFile) == 1, "the queued requests make one reload")
        _ = harness.send(.configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
        #expect(harness.send(.serverListRead([.sample(1)])).count(.reloadConfigurationFile) == 0)
    }

    @Test func unknownKeyWarningsAreLoggedOnReload() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        let loaded = LoadedConfiguration(
            configuration: harness.collector, path: "p",
            warnings: ["ignored unknown key use_server_alais in configuration file p"])
        let actions = harness.send(.configurationFileReloaded(.success(loaded)))
        #expect(actions.logs(.warning) == loaded.warnings)
    }

    @Test func resultsNobodyAskedForAreIgnored() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.send(.serverListRead([.sample(1), .sample(2)])).isEmpty)
        #expect(
            harness.send(.configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
                .isEmpty)
        #expect(harness.send(.serverListReadFailed(reason: "x")).isEmpty)
    }

    @Test func serverReaddedWhileItsOldWorkerStopsGetsANewWorker() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let old = harness.pid(1)
        _ = Self.reload(&harness, rows: [])
        let actions = Self.reload(&harness, rows: [.sample(1)])
        #expect(actions.spawned.map(\.srvid) == [1])
        #expect(harness.pid(1) != old)
        #expect(harness.status(1) == "starting")
        // The old process still gets killed if it lingers, the new one not.
        let kill = harness.advance(by: 10)
        #expect(kill.signals.map(\.pid) == [old])
    }

    @Test func serverRemovedWhileSpawningIsStoppedWhenItsPidArrives() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        _ = harness.send(.configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
        let addition = harness.send(.serverListRead([.sample(1), .sample(2)]))
        #expect(addition.spawned.map(\.srvid) == [2])
        // A second reload removes it before the shell reports the spawn.
        _ = harness.send(.signalReceived(.hangup))
        _ = harness.send(.configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
        _ = harness.send(.serverListRead([.sample(1)]))
        let late = harness.send(.workerSpawned(srvid: 2, pid: 4242))
        #expect(late.messages(to: 4242) == [.stop])
        #expect(harness.advance(by: 10).signals.map(\.pid).contains(4242))
    }
}
