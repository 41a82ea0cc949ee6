import Testing

@testable import PowaCore

/// The life-cycle phases of the composed machine: what each allows, and
/// that no phase carries another's business (no reload stage while
/// stopping, no shutdown deadline while running).
@Suite struct SupervisorPhaseTests {
    static func loaded(_ configuration: CollectorConfiguration) -> SupervisorEvent {
        .configurationFileReloaded(
            .success(LoadedConfiguration(configuration: configuration, path: "/etc/powa-collector.conf")))
    }

    @Test func serviceStateFollowsThePhase() {
        var harness = SupervisorHarness()
        #expect(harness.machine.serviceState == .starting)
        _ = harness.send(
            .started(LoadedConfiguration(configuration: harness.collector, path: "/etc/powa-collector.conf")))
        _ = harness.send(.repositoryConnected)
        #expect(harness.machine.serviceState == .starting)
        _ = harness.performSpawns(harness.send(.serverListRead([.sample(1)])))
        #expect(harness.machine.serviceState == .ready)
        _ = harness.send(.signalReceived(.hangup))
        #expect(harness.machine.serviceState == .reloading)
        _ = harness.send(Self.loaded(harness.collector))
        #expect(harness.machine.serviceState == .reloading, "until the server list is applied")
        _ = harness.send(.serverListRead([.sample(1)]))
        #expect(harness.machine.serviceState == .ready)
        _ = harness.send(.signalReceived(.terminate))
        #expect(harness.machine.serviceState == .stopping)
    }

    @Test func aReloadAskedWhileStartingFollowsTheFirstList() {
        var harness = SupervisorHarness()
        _ = harness.send(
            .started(LoadedConfiguration(configuration: harness.collector, path: "/etc/powa-collector.conf")))
        #expect(harness.send(.signalReceived(.hangup)).count(.reloadConfigurationFile) == 0)
        _ = harness.send(.repositoryConnected)
        let first = harness.send(.serverListRead([.sample(1)]))
        #expect(first.spawned.map(\.srvid) == [1])
        #expect(first.count(.reloadConfigurationFile) == 1)
        #expect(harness.machine.serviceState == .reloading)
    }

    @Test func requestsDuringAReloadMakeOneMoreReload() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        #expect(harness.send(.signalReceived(.hangup)).count(.reloadConfigurationFile) == 0)
        #expect(harness.notify("RELOAD chan").answers(on: "chan") == ["RELOAD OK OK"])
        _ = harness.send(Self.loaded(harness.collector))
        let done = harness.send(.serverListRead([.sample(1)]))
        #expect(done.logs(.info).contains("reload done"))
        #expect(done.count(.reloadConfigurationFile) == 1, "one further reload for both requests")
        _ = harness.send(Self.loaded(harness.collector))
        #expect(harness.send(.serverListRead([.sample(1)])).count(.reloadConfigurationFile) == 0)
        #expect(harness.machine.serviceState == .ready)
    }

    @Test func stoppingDuringAReloadDropsTheReload() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        _ = harness.send(.signalReceived(.terminate))
        let late = harness.send(Self.loaded(harness.collector))
        #expect(late.count(.readServerList) == 0, "a stopping collector reads no list")
        #expect(late.logs(.info).isEmpty)
        #expect(harness.send(.serverListRead([.sample(1), .sample(2)])).spawned.isEmpty)
        #expect(harness.send(.signalReceived(.hangup)).count(.reloadConfigurationFile) == 0)
        #expect(harness.machine.serviceState == .stopping)
    }

    @Test func aListReadLostWithTheConnectionIsReadAgainOnceReconnected() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        #expect(harness.send(Self.loaded(harness.collector)).count(.readServerList) == 1)
        _ = harness.send(.repositoryConnectionLost(reason: "gone"))
        #expect(
            harness.send(.serverListRead([.sample(1), .sample(2)])).spawned.isEmpty,
            "the lost read's answer is not awaited")
        let reconnect = harness.advance(to: harness.machine.nextDeadline!)
        #expect(reconnect.connects.count == 1)
        #expect(harness.send(.repositoryConnected).count(.readServerList) == 1)
        #expect(harness.send(.serverListRead([.sample(1), .sample(2)])).spawned.map(\.srvid) == [2])
        #expect(harness.machine.serviceState == .ready)
    }

    @Test func aFailedListReadEndsTheReloadAndChangesNothing() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        _ = harness.send(Self.loaded(harness.collector))
        let failed = harness.send(.serverListReadFailed(reason: "permission denied"))
        #expect(failed.logs(.error).first?.hasPrefix("reload failed, cannot read the list of servers") == true)
        #expect(failed.exitCode == nil)
        #expect(harness.machine.serviceState == .ready)
    }

    @Test func aChangedMetricsAddressIsReportedAsNeedingARestart() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.signalReceived(.hangup))
        var changed = harness.collector
        changed.metricsListen = ListenAddress("127.0.0.1:9187")
        let reloaded = harness.send(Self.loaded(changed))
        #expect(
            reloaded.logs(.warning).contains {
                $0.hasPrefix(
                    "metrics_listen changed in /etc/powa-collector.conf: the endpoint is opened at startup only")
            })
        _ = harness.send(.serverListRead([.sample(1)]))
        _ = harness.send(.signalReceived(.hangup))
        #expect(harness.send(Self.loaded(harness.collector)).logs(.warning).isEmpty, "back to the address in use")
    }

    @Test func undeliveredMessagesAreLoggedByWhy() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let pid = harness.pid(1)
        #expect(
            harness.send(.workerInputDropped(pid: pid, message: "reload", .overflow)).logs(.warning)
                == ["dropped reload: the worker is not reading its stdin"])
        #expect(
            harness.send(.workerInputDropped(pid: pid, message: "stop", .inputClosed)).logs(.debug)
                == ["not sending stop: the worker's stdin is closed"])
        #expect(
            harness.send(.workerInputDropped(pid: 4, message: "stop", .processGone)).logs(.debug)
                == ["not sending stop to process 4: it is gone"])
    }

    @Test func theLaunchersEndIsNewsOnlyWhileCollecting() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let running = harness.send(.launcherExited(pid: 50, .killedBySignal(9)))
        #expect(
            running.logs(.warning).first?.hasPrefix("the worker launcher (pid 50) ended (killed by signal 9)") == true)
        _ = harness.send(.signalReceived(.terminate))
        let stopping = harness.send(.launcherExited(pid: 51, .killedBySignal(15)))
        #expect(stopping.logs(.warning).isEmpty)
        #expect(stopping.logs(.debug) == ["the worker launcher (pid 51) ended (killed by signal 15)"])
    }

    @Test func nothingHappensAfterTheExit() {
        var harness = SupervisorHarness()
        _ = harness.send(
            .started(LoadedConfiguration(configuration: harness.collector, path: "/etc/powa-collector.conf")))
        #expect(harness.send(.signalReceived(.terminate)).exitCode == 0)
        #expect(harness.machine.isFinished)
        #expect(harness.send(.repositoryConnected).isEmpty)
        #expect(harness.machine.nextDeadline == nil)
    }
}
