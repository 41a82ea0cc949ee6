import Testing

@testable import PowaCore

@Suite struct SupervisorMetricsTests {
    /// Counters survive a worker's restart: the new process counts from
    /// zero, the supervisor adds what the old one had reported.
    @Test func countersAddUpAcrossRestartsAndRestartsAreCounted() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(
            1,
            WorkerStatus(
                status: "running", lastSnapshotStart: 100, lastSnapshotDuration: 0.5,
                snapshotsTaken: 3, snapshotsFailed: 1, datasourceErrors: 2, rowsCopied: 10, bytesCopied: 100))
        _ = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(9)))
        var server = harness.machine.metrics(now: harness.now).servers[0]
        #expect(server.up == false)
        #expect(server.restarts == 1)
        #expect(server.snapshotsTaken == 3)
        let respawn = harness.advance(by: 1)
        _ = harness.performSpawns(respawn)
        harness.report(
            1,
            WorkerStatus(
                status: "running", lastSnapshotStart: 200, lastSnapshotDuration: 0.25,
                snapshotsTaken: 1, rowsCopied: 5, bytesCopied: 50))
        server = harness.machine.metrics(now: harness.now).servers[0]
        #expect(server.up)
        #expect(server.snapshotsTaken == 4)
        #expect(server.snapshotsFailed == 1)
        #expect(server.datasourceErrors == 2)
        #expect(server.rowsCopied == 15)
        #expect(server.bytesCopied == 150)
        #expect(server.lastSnapshotStart == 200)
        #expect(server.lastSnapshotDuration == 0.25)
    }

    @Test func serviceStateFollowsStartReloadAndShutdown() {
        var harness = SupervisorHarness()
        #expect(harness.machine.serviceState == .starting)
        harness.startRunning([.sample(1)])
        #expect(harness.machine.serviceState == .ready)
        #expect(harness.machine.metrics(now: harness.now).notReadyReason == nil)
        _ = harness.send(.signalReceived(.hangup))
        #expect(harness.machine.serviceState == .reloading)
        _ = harness.send(
            .configurationFileReloaded(.success(LoadedConfiguration(configuration: harness.collector, path: "/c"))))
        _ = harness.send(.serverListRead([.sample(1)]))
        #expect(harness.machine.serviceState == .ready)
        _ = harness.send(.repositoryConnectionLost(reason: "gone"))
        #expect(harness.machine.metrics(now: harness.now).notReadyReason == "not connected to the repository")
        _ = harness.send(.signalReceived(.terminate))
        #expect(harness.machine.serviceState == .stopping)
    }

    @Test func notifyRequestsAreCountedByCommandAndOutcome() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.notify("WORKERS_STATUS chan")
        _ = harness.notify("WORKERS_STATUS chan", permitted: false)
        _ = harness.notify("RELOAD chan", permitted: false)
        _ = harness.notify("FORCE_SNAPSHOT chan abc")
        _ = harness.notify("\u{1}HOSTILE chan")
        let counts = harness.machine.metrics(now: harness.now).notifyRequests
        #expect(counts[.workersStatus, .done] == 1)
        #expect(counts[.workersStatus, .refused] == 1)
        #expect(counts[.reload, .refused] == 1)
        #expect(counts[.forceSnapshot, .invalid] == 1)
        #expect(counts[.unknown, .unknownCommand] == 1)
        let text = PrometheusExposition.render(harness.machine.metrics(now: harness.now))
        #expect(text.contains("powa_collector_notify_requests_total{command=\"RELOAD\",outcome=\"refused\"} 1\n"))
    }
}
