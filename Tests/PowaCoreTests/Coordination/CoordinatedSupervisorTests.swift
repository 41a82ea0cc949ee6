import Testing

@testable import PowaCore

/// The supervisor machine with coordination: workers run only for servers
/// this instance claimed, each with its fence; lost or handed-over servers
/// are stopped; requests about another instance's servers are left to it.
@Suite struct CoordinatedSupervisorTests {
    static let me = InstanceIdentity(id: "me:1:a", hostname: "me", pid: 1)
    static let other = "other:2:b"

    func rounds(_ actions: [SupervisorAction]) -> [CoordinationRound] {
        actions.compactMap { if case .coordinate(let round) = $0 { round } else { nil } }
    }

    func claims(_ actions: [SupervisorAction]) -> [[Int]] {
        actions.compactMap { if case .claimServers(_, _, let srvids) = $0 { srvids } else { nil } }
    }

    /// Started alone on the repository: round, claim of everything, spawns.
    func runningAlone(_ servers: [Int]) -> SupervisorHarness {
        var harness = SupervisorHarness(instance: Self.me)
        let started = harness.startRunning(servers.map { ServerRow.sample($0) })
        #expect(started.spawned.isEmpty, "nothing runs before it owns it")
        #expect(rounds(started).count == 1)
        let read = harness.send(.coordinationRead(CoordinationView(liveInstances: [Self.me.id], rows: [])))
        #expect(claims(read) == [servers])
        let claimed = harness.performSpawns(
            harness.send(.serversClaimed(Dictionary(uniqueKeysWithValues: servers.map { ($0, 1) }))))
        #expect(claimed.spawned.map(\.srvid).sorted() == servers)
        return harness
    }

    @Test func aloneItClaimsEveryServerAndStartsEachWorkerWithItsFence() {
        var harness = SupervisorHarness(instance: Self.me)
        _ = harness.startRunning([.sample(1), .sample(2)])
        _ = harness.send(.coordinationRead(CoordinationView(liveInstances: [Self.me.id], rows: [])))
        let actions = harness.performSpawns(harness.send(.serversClaimed([1: 4, 2: 1])))
        let start = actions.messages(to: harness.pid(1)).first
        guard case .start(let configuration)? = start else {
            Issue.record("no start message: \(actions)")
            return
        }
        #expect(configuration.fence == OwnershipFence(owner: Self.me.id, epoch: 4, leaseSeconds: 30))
    }

    @Test func roundsRepeatEveryThirdOfTheLeaseAndPublishTheWorkersStatuses() {
        var harness = runningAlone([1])
        harness.report(1, WorkerStatus(status: "running"))
        let early = harness.advance(by: 9)
        #expect(rounds(early).isEmpty)
        let due = harness.advance(by: 1)
        #expect(rounds(due).count == 1)
        #expect(rounds(due).first?.statuses == [1: "running"])
        #expect(rounds(due).first?.leaseSeconds == 30)
    }

    @Test func aServerTakenByAnotherInstanceIsStoppedAndItsStatusComesFromTheOwner() {
        var harness = runningAlone([1, 2])
        harness.advance(by: 10)
        let view = CoordinationView(
            liveInstances: [Self.me.id, Self.other],
            rows: [
                OwnershipRow(srvid: 1, owner: Self.other, epoch: 2, claimable: false, ownerStatus: "running"),
                OwnershipRow(srvid: 2, owner: Self.me.id, epoch: 1, claimable: false),
            ])
        let pid1 = harness.pid(1)
        let actions = harness.send(.coordinationRead(view))
        #expect(actions.messages(to: pid1) == [.stop])
        #expect(actions.messages(to: harness.pid(2)).isEmpty)
        #expect(actions.logs(.warning).contains { $0.contains("ownership of server 1 lost") })
        _ = harness.send(.workerExited(pid: pid1, .exited(status: 0)))
        let answer = harness.ask(#"WORKERS_STATUS chan"#)
        #expect(answer.first?.contains(#""1":"running""#) == true)
    }

    @Test func forceSnapshotOfAnotherInstancesServerIsLeftToIt() {
        var harness = SupervisorHarness(instance: Self.me)
        _ = harness.startRunning([.sample(1), .sample(2)])
        let view = CoordinationView(
            liveInstances: [Self.me.id, Self.other],
            rows: [
                OwnershipRow(srvid: 1, owner: Self.other, epoch: 1, claimable: false, ownerStatus: "running")
            ])
        _ = harness.send(.coordinationRead(view))
        #expect(harness.notify("FORCE_SNAPSHOT chan 1").answers(on: "chan").isEmpty)
        #expect(harness.notify("REFRESH_DB_CAT chan 1 1 powa").answers(on: "chan").isEmpty)
        #expect(harness.ask("WORKERS_STATUS chan 1") == [#"WORKERS_STATUS OK {"1":"running"}"#])
        // Not owned by a live instance: answered here, as a lone collector would.
        #expect(harness.ask("FORCE_SNAPSHOT chan 3").count == 1)
    }

    @Test func aReconnectionRunsARoundAtOnceAndALostRoundIsRetried() {
        var harness = runningAlone([1])
        harness.advance(by: 10)
        let lost = harness.send(.repositoryConnectionLost(reason: "gone"))
        #expect(rounds(lost).isEmpty)
        harness.advance(by: 2)
        let back = harness.send(.repositoryConnected)
        #expect(rounds(back).count == 1)
        let failed = harness.send(.coordinationFailed(reason: "permission denied for database"))
        #expect(failed.logs(.warning).count == 1)
        #expect(rounds(harness.advance(by: 10)).count == 1)
    }

    @Test func aRoundThatNeverSucceedsIsAnErrorSayingNothingIsCollected() {
        var harness = SupervisorHarness(instance: Self.me)
        _ = harness.startRunning([.sample(1)])
        let failed = harness.send(.coordinationFailed(reason: "permission denied for database powa"))
        #expect(failed.logs(.error).contains { $0.contains("collects nothing") }, "\(failed)")
        #expect(failed.spawned.isEmpty)
        #expect(rounds(harness.advance(by: 10)).count == 1, "and it keeps trying")
    }

    /// systemd's STATUS= line and /metrics count this instance's workers;
    /// they must say the other servers are collected elsewhere, and when
    /// rounds fail, rather than read as servers gone missing.
    @Test func statusLineAndMetricsTellTheShareOfTheServersAndAFailingRound() {
        var harness = SupervisorHarness(instance: Self.me)
        _ = harness.startRunning([.sample(1), .sample(2), .sample(3)])
        #expect(harness.machine.coordinationSummary == CoordinationSummary(listed: 3, owned: 0, roundFailing: true))
        let view = CoordinationView(
            liveInstances: [Self.me.id, Self.other],
            rows: [
                OwnershipRow(srvid: 1, owner: Self.other, epoch: 1, claimable: false, ownerStatus: "running"),
                OwnershipRow(srvid: 2, owner: Self.other, epoch: 1, claimable: false, ownerStatus: "running"),
            ])
        _ = harness.send(.coordinationRead(view))
        _ = harness.performSpawns(harness.send(.serversClaimed([3: 1])))
        harness.report(3, WorkerStatus(status: "running"))
        let summary = harness.machine.coordinationSummary
        #expect(summary == CoordinationSummary(listed: 3, owned: 1, roundFailing: false))
        let line = ServiceStatusSummary.line(
            statuses: harness.machine.workersStatus(now: harness.now), repositoryConnected: true,
            state: harness.machine.serviceState, coordination: summary)
        #expect(line == "1 server: 1 running, 0 failing; 2 on other instances; repository connected")
        var text = PrometheusExposition.render(harness.machine.metrics(now: harness.now))
        #expect(text.contains("powa_collector_servers_listed 3\n"))
        #expect(text.contains("powa_collector_servers_owned 1\n"))
        #expect(text.contains("powa_collector_coordination_failing 0\n"))
        harness.advance(by: 10)
        _ = harness.send(.coordinationFailed(reason: "permission denied for table instances"))
        text = PrometheusExposition.render(harness.machine.metrics(now: harness.now))
        #expect(text.contains("powa_collector_coordination_failing 1\n"))
        let failing = ServiceStatusSummary.line(
            statuses: harness.machine.workersStatus(now: harness.now), repositoryConnected: true,
            state: harness.machine.serviceState, coordination: harness.machine.coordinationSummary)
        #expect(failing.contains("; coordination failing"))
    }

    @Test func aloneTheStatusLineAndMetricsAreAsBefore() {
        var harness = SupervisorHarness()
        _ = harness.startRunning([.sample(1)])
        #expect(harness.machine.coordinationSummary == nil)
        #expect(!PrometheusExposition.render(harness.machine.metrics(now: harness.now)).contains("servers_owned"))
    }

    @Test func withoutCoordinationTheMachineSpawnsAtOnceAsBefore() {
        var harness = SupervisorHarness()
        let actions = harness.startRunning([.sample(1)])
        #expect(actions.spawned.count == 1)
        #expect(rounds(actions).isEmpty)
        #expect(actions.spawned.first?.fence == nil)
    }
}
