import Testing
@testable import PowaCore

/// An overloaded machine shows as lateness: every server's snapshots begin
/// a little late, and the status, the metrics and powa-web say by how much.
@Suite struct SnapshotLatenessTests {
    @Test func aLateStartCarriesWhenItWasDue() throws {
        var rng = SeededGenerator(seed: 3)
        var schedule = SnapshotSchedule(frequency: 60, lastSnapshot: 990, now: 1000, using: &rng)
        let late = schedule.poll(now: 1062.5)
        #expect(try #require(late).due == 1050)
        schedule.snapshotFinished(now: 1063)
        let next = schedule.poll(now: 1122.5)
        #expect(next?.due == 1122.5, "the grid restarts from the late start")
    }

    @Test func aForcedSnapshotAheadOfTheGridIsNotLate() throws {
        var rng = SeededGenerator(seed: 4)
        var schedule = SnapshotSchedule(frequency: 60, lastSnapshot: 990, now: 1000, using: &rng)
        try schedule.requestForcedSnapshot(now: 1010)
        let forced = schedule.poll(now: 1010)
        #expect(forced != nil)
        #expect(forced?.due == nil)
    }

    @Test func aLateSnapshotIsSaidInTheStatusPowaWebShows() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1, frequency: 60), .sample(2, frequency: 60)])
        harness.report(1, WorkerStatus(status: "running", lastSnapshotLateness: 12.4))
        harness.report(2, WorkerStatus(status: "running", lastSnapshotLateness: 1.5))
        #expect(harness.status(1) == "running, last snapshot 12 s late")
        #expect(harness.status(2) == "running", "jitter under a tenth of the period is not worth an alert")
        harness.report(1, WorkerStatus(status: "running", lastSnapshotLateness: 0.01))
        #expect(harness.status(1) == "running")
    }

    @Test func aServerThatCannotCollectSaysWhyNotHowLate() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1, frequency: 60)])
        harness.report(1, WorkerStatus(status: WorkerStatusText.noRemoteConnection, lastSnapshotLateness: 30))
        #expect(harness.status(1) == WorkerStatusText.noRemoteConnection)
    }

    @Test func theMetricsCarryEveryServersLateness() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1, frequency: 60)])
        harness.report(1, WorkerStatus(status: "running", lastSnapshotLateness: 0.25))
        let text = PrometheusExposition.render(harness.machine.metrics(now: harness.now))
        #expect(text.contains("powa_collector_last_snapshot_lateness_seconds{srvid=\"1\""))
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("powa_collector_last_snapshot_lateness_seconds{") && $0.hasSuffix(" 0.25") })
    }

    @Test func theWorkersByStatusSeriesDoNotMultiplyWithLateness() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1, frequency: 60)])
        harness.report(1, WorkerStatus(status: "running", lastSnapshotLateness: 30))
        #expect(harness.status(1) == "running, last snapshot 30 s late")
        #expect(harness.machine.metrics(now: harness.now).servers.map(\.status) == ["running"])
    }

    @Test func theLatenessLineIsReadBackAndOptional() throws {
        let status = WorkerStatus(status: "running", lastSnapshotLateness: 3.5)
        let line = WorkerMessage.status(status).line()
        #expect(try WorkerMessage.decode(line: line.dropLast()) == .status(status))
        let older = Array(#"{"type":"status","status":"running","snapshot_running":false}"#.utf8)
        #expect(try WorkerMessage.decode(line: older[...]) == .status(WorkerStatus(status: "running")))
    }
}
