import FoundationEssentials
import Testing

@testable import PowaCore

@Suite struct NotificationAnswerTests {
    static func statusJSON(_ answer: String, command: String = "WORKERS_STATUS") throws -> [String: String] {
        let prefix = "\(command) OK "
        #expect(answer.hasPrefix(prefix))
        return try JSONDecoder().decode([String: String].self, from: Data(answer.dropFirst(prefix.count).utf8))
    }

    // MARK: RELOAD

    @Test func reloadAnswersOKAndReloads() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.notify("RELOAD chan")
        #expect(actions.answers(on: "chan") == ["RELOAD OK OK"])
        #expect(actions.count(.reloadConfigurationFile) == 1)
    }

    @Test(arguments: ["RELOAD -", "RELOAD"])
    func reloadWithoutChannelStillReloads(payload: String) {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.notify(payload)
        #expect(actions.allAnswers.isEmpty)
        #expect(actions.count(.reloadConfigurationFile) == 1)
    }

    // MARK: Permission, unknown, malformed

    @Test(arguments: [
        "RELOAD chan", "WORKERS_STATUS chan", "FORCE_SNAPSHOT chan 1", "REFRESH_DB_CAT chan 1 0", "NOPE chan",
    ])
    func senderWithoutPermissionIsRefusedAndNothingHappens(payload: String) {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let command = payload.split(separator: " ")[0]
        let actions = harness.notify(payload, permitted: false)
        #expect(actions.answers(on: "chan") == ["\(command) ERROR Permission denied"])
        #expect(actions.allMessages.isEmpty)
        #expect(actions.count(.reloadConfigurationFile) == 0)
    }

    /// WORKERS_STATUS changes nothing: its answer goes out with the
    /// sender's check, in one round trip, whatever the check says.
    @Test func aStatusRequestIsAnsweredTogetherWithItsCheck() throws {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.send(.notificationFromUncheckedSender(payload: "WORKERS_STATUS chan", senderPID: 77))
        let conditional = actions.compactMap { action -> (String, Int32, String, String, ConditionalAnswer)? in
            if case .answerNotificationIfPermitted(let channel, let pid, let answer, let denied, let request) = action {
                (channel, pid, answer, denied, request)
            } else {
                nil
            }
        }
        try #require(conditional.count == 1)
        #expect(conditional[0].0 == "chan")
        #expect(conditional[0].1 == 77)
        #expect(try Self.statusJSON(conditional[0].2) == ["1": "starting"])
        #expect(conditional[0].3 == "WORKERS_STATUS ERROR Permission denied")
        #expect(conditional[0].4 == ConditionalAnswer(command: "WORKERS_STATUS", outcomeIfPermitted: .done))
        // Refused, it is logged once the supervisor reports the check.
        let refused = harness.send(.conditionalAnswerSent(conditional[0].4, senderPID: 77, senderPermitted: false))
        #expect(refused.contains(.log(.warning, "refused WORKERS_STATUS: the sender is not permitted", worker: nil)))
        #expect(!actions.contains { if case .checkSenderPermission = $0 { true } else { false } })
        #expect(actions.allAnswers.isEmpty, "nothing goes out unconditionally")
    }

    /// A request that does something waits for the check: nothing happens
    /// before it.
    @Test(arguments: ["RELOAD chan", "FORCE_SNAPSHOT chan 1", "REFRESH_DB_CAT chan 1 0", "WORKERS_STATUS -"])
    func aRequestThatActsIsCheckedFirst(payload: String) {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.send(.notificationFromUncheckedSender(payload: payload, senderPID: 77))
        #expect(actions == [.checkSenderPermission(payload: payload, senderPID: 77)])
    }

    @Test func senderWithoutPermissionAndWithoutChannelGetsNothingDone() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.notify("RELOAD -", permitted: false)
        #expect(actions.allAnswers.isEmpty)
        #expect(actions.count(.reloadConfigurationFile) == 0)
    }

    @Test func unknownCommandAnswersUnknown() {
        var harness = SupervisorHarness()
        harness.startRunning([])
        #expect(harness.ask("SHUTDOWN chan now") == ["SHUTDOWN UNKNOWN unknown command, ignored"])
    }

    @Test func malformedRequestAnswersErrorWithTheReason() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.ask("FORCE_SNAPSHOT chan one") == [#"FORCE_SNAPSHOT ERROR invalid server id "one""#])
        #expect(
            harness.ask("REFRESH_DB_CAT chan 1 2 db") == [
                "REFRESH_DB_CAT ERROR REFRESH_DB_CAT announced 2 databases but named 1"
            ])
    }

    @Test func unusableChannelsGetNoAnswerButAWarning() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let long = String(repeating: "c", count: 64)
        let actions = harness.notify("WORKERS_STATUS \(long)")
        #expect(actions.allAnswers.isEmpty)
        #expect(actions.logs(.warning).count == 1)
        let empty = harness.notify("RELOAD  x")
        #expect(empty.allAnswers.isEmpty)
        #expect(empty.count(.reloadConfigurationFile) == 1, "the request itself is still carried out")
        let longest = String(repeating: "c", count: 63)
        #expect(harness.ask("WORKERS_STATUS \(longest)", channel: longest).count == 1)
    }

    // MARK: WORKERS_STATUS

    @Test func workersStatusReportsEveryWorkerByServerId() throws {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2), .sample(3), .sample(4)])
        harness.report(1, WorkerStatus(status: WorkerStatusText.running))
        harness.report(2, WorkerStatus(status: WorkerStatusText.noRemoteConnection))
        _ = harness.send(.workerExited(pid: harness.pid(3), .killedBySignal(9)))
        let answer = try #require(harness.ask("WORKERS_STATUS chan").first)
        #expect(
            try Self.statusJSON(answer) == [
                "1": "running",
                "2": "no connection to remote server",
                "3": "restarting in 1 s (killed by signal 9)",
                "4": "starting",
            ])
    }

    @Test func workersStatusOfOneServer() throws {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        harness.report(2, WorkerStatus(status: "running"))
        #expect(harness.ask("WORKERS_STATUS chan 2") == [#"WORKERS_STATUS OK {"2":"running"}"#])
        #expect(harness.ask("WORKERS_STATUS chan 9") == ["WORKERS_STATUS OK {}"])
        #expect(harness.ask("WORKERS_STATUS chan 0") == ["WORKERS_STATUS OK {}"])
        #expect(harness.ask("WORKERS_STATUS chan 123456789012345678901234567890") == ["WORKERS_STATUS OK {}"])
        let all = try #require(harness.ask("WORKERS_STATUS chan two").first)
        #expect(try Self.statusJSON(all).keys.sorted() == ["1", "2"])
    }

    @Test func workersStatusWithoutChannelIsIgnored() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.notify("WORKERS_STATUS -").filter { if case .log = $0 { false } else { true } }.isEmpty)
    }

    @Test func workersStatusWithNoWorkerAtAll() {
        var harness = SupervisorHarness()
        harness.startRunning([])
        #expect(harness.ask("WORKERS_STATUS chan") == ["WORKERS_STATUS OK {}"])
    }

    @Test func statusFollowsTheWorkersLastReport() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.status(1) == "starting")
        harness.report(1, WorkerStatus(status: WorkerStatusText.noRepositoryConnection))
        #expect(harness.status(1) == "no connection to repository server")
        harness.report(1, WorkerStatus(status: WorkerStatusText.running))
        #expect(harness.status(1) == "running")
    }

    @Test func tooManyWorkersMakeTheAnswerTooLong() {
        var harness = SupervisorHarness()
        harness.startRunning((1...400).map { ServerRow.sample($0) })
        for srvid in 1...400 { harness.report(srvid, WorkerStatus(status: WorkerStatusText.noRemoteConnection)) }
        #expect(
            harness.ask("WORKERS_STATUS chan") == [
                "WORKERS_STATUS KO " + WorkersStatusAnswer.tooLongReason(serverCount: 400)
            ])
        #expect(harness.ask("WORKERS_STATUS chan 7") == [#"WORKERS_STATUS OK {"7":"no connection to remote server"}"#])
    }

    @Test func aHostileStatusStringStaysValidJSON() throws {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let weird = "\"}, \"2\": \"pwned\\\n\u{0}"
        harness.report(1, WorkerStatus(status: weird))
        let answer = try #require(harness.ask("WORKERS_STATUS chan").first)
        #expect(try Self.statusJSON(answer) == ["1": weird])
    }

    // MARK: FORCE_SNAPSHOT

    @Test func forceSnapshotIsSentAndAnsweredAtOnce() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running"))
        let actions = harness.notify("FORCE_SNAPSHOT chan 1")
        #expect(actions.answers(on: "chan") == ["FORCE_SNAPSHOT OK snapshot will begin shortly"])
        #expect(actions.messages(to: harness.pid(1)) == [.forceSnapshot])
    }

    @Test func forceSnapshotWithoutChannelStillForces() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.notify("FORCE_SNAPSHOT - 1")
        #expect(actions.allAnswers.isEmpty)
        #expect(actions.messages(to: harness.pid(1)) == [.forceSnapshot])
    }

    @Test func forceSnapshotIsRefusedWhileASnapshotRuns() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running", snapshotRunning: true, lastSnapshotStart: 1))
        harness.advance(by: 12)
        harness.heartbeatAll()
        let actions = harness.notify("FORCE_SNAPSHOT chan 1")
        #expect(actions.answers(on: "chan") == ["FORCE_SNAPSHOT ERROR a snapshot is already running"])
        #expect(actions.allMessages.isEmpty)
    }

    @Test func forceSnapshotIsRefusedWhileOneIsQueuedUntilItBeginsOrExpires() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running"))
        #expect(harness.ask("FORCE_SNAPSHOT chan 1") == ["FORCE_SNAPSHOT OK snapshot will begin shortly"])
        let queued = harness.notify("FORCE_SNAPSHOT chan 1")
        #expect(queued.answers(on: "chan") == ["FORCE_SNAPSHOT ERROR a forced snapshot is already queued"])
        #expect(queued.allMessages.isEmpty)
        // The worker never begins it (say it cannot reach its server): the
        // request expires after the queue timeout.
        _ = harness.runHealthily(for: 29)
        #expect(harness.ask("FORCE_SNAPSHOT chan 1") == ["FORCE_SNAPSHOT ERROR a forced snapshot is already queued"])
        _ = harness.runHealthily(for: 1)
        #expect(harness.ask("FORCE_SNAPSHOT chan 1") == ["FORCE_SNAPSHOT OK snapshot will begin shortly"])
    }

    @Test func forceSnapshotIsRefusedWithinTenSecondsOfTheLastStart() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running"))
        _ = harness.notify("FORCE_SNAPSHOT chan 1")
        // The forced snapshot begins and ends.
        harness.report(1, WorkerStatus(status: "running", snapshotRunning: true, lastSnapshotStart: 5_000))
        harness.advance(by: 0.5)
        harness.report(
            1, WorkerStatus(status: "running", lastSnapshotStart: 5_000, lastSnapshotDuration: 0.5, snapshotsTaken: 1))
        harness.advance(by: 9.4)  // 9.9 s after the start
        harness.heartbeatAll()
        #expect(
            harness.ask("FORCE_SNAPSHOT chan 1") == [
                "FORCE_SNAPSHOT ERROR the last snapshot started less than 10 s ago"
            ])
        harness.advance(by: 0.1)
        harness.heartbeatAll()
        #expect(harness.ask("FORCE_SNAPSHOT chan 1") == ["FORCE_SNAPSHOT OK snapshot will begin shortly"])
    }

    @Test func aSnapshotSeenOnlyThroughItsNewStartTimeCountsToo() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running", lastSnapshotStart: 100))
        harness.advance(by: 3)
        // A quick snapshot whose "running" status was never sent.
        harness.report(1, WorkerStatus(status: "running", lastSnapshotStart: 400, snapshotsTaken: 1))
        #expect(
            harness.ask("FORCE_SNAPSHOT chan 1") == [
                "FORCE_SNAPSHOT ERROR the last snapshot started less than 10 s ago"
            ])
    }

    @Test func aStartTimeInTheFirstStatusDoesNotBlockForcing() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running", lastSnapshotStart: 100))
        #expect(harness.ask("FORCE_SNAPSHOT chan 1") == ["FORCE_SNAPSHOT OK snapshot will begin shortly"])
    }

    @Test func theLastStartIsRememberedAcrossARestart() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running", snapshotRunning: true, lastSnapshotStart: 1))
        _ = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(11)))
        _ = harness.performSpawns(harness.advance(by: 1))
        #expect(
            harness.ask("FORCE_SNAPSHOT chan 1") == [
                "FORCE_SNAPSHOT ERROR the last snapshot started less than 10 s ago"
            ])
    }

    @Test func forceSnapshotOfAnUnknownServer() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.ask("FORCE_SNAPSHOT chan 2") == ["FORCE_SNAPSHOT ERROR no worker for server id 2"])
        #expect(harness.ask("FORCE_SNAPSHOT chan -1") == ["FORCE_SNAPSHOT ERROR no worker for server id -1"])
    }

    @Test func forceSnapshotOfAWorkerThatIsNotRunning() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        _ = harness.send(.workerExited(pid: harness.pid(1), .exited(status: 4)))
        let actions = harness.notify("FORCE_SNAPSHOT chan 1")
        #expect(
            actions.answers(on: "chan")
                == [
                    "FORCE_SNAPSHOT ERROR the worker of server id 1 is not running (restarting in 1 s (exited with status 4))"
                ])
        #expect(actions.allMessages.isEmpty)
    }

    @Test func forcingOneServerDoesNotBlockAnother() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        #expect(harness.ask("FORCE_SNAPSHOT chan 1") == ["FORCE_SNAPSHOT OK snapshot will begin shortly"])
        #expect(harness.ask("FORCE_SNAPSHOT chan 2") == ["FORCE_SNAPSHOT OK snapshot will begin shortly"])
    }

    // MARK: REFRESH_DB_CAT

    @Test func refreshCatalogsIsPassedToTheWorker() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let actions = harness.notify("REFRESH_DB_CAT chan 1 2 sales hr")
        #expect(actions.answers(on: "chan") == ["REFRESH_DB_CAT OK catalogs will be refreshed at the next snapshot"])
        #expect(actions.messages(to: harness.pid(1)) == [.refreshCatalogs(dbnames: ["sales", "hr"])])
        let all = harness.notify("REFRESH_DB_CAT - 1 0")
        #expect(all.allAnswers.isEmpty)
        #expect(all.messages(to: harness.pid(1)) == [.refreshCatalogs(dbnames: [])])
    }

    @Test func refreshCatalogsErrors() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        #expect(harness.ask("REFRESH_DB_CAT chan 5 0") == ["REFRESH_DB_CAT ERROR no worker for server id 5"])
        let mismatch = harness.notify("REFRESH_DB_CAT chan 1 3 a b")
        #expect(
            mismatch.answers(on: "chan") == ["REFRESH_DB_CAT ERROR REFRESH_DB_CAT announced 3 databases but named 2"])
        #expect(mismatch.allMessages.isEmpty)
        _ = harness.send(.workerExited(pid: harness.pid(1), .killedBySignal(6)))
        #expect(
            harness.ask("REFRESH_DB_CAT chan 1 0")
                == [
                    "REFRESH_DB_CAT ERROR the worker of server id 1 is not running (restarting in 1 s (killed by signal 6))"
                ])
    }

    @Test func answersDoNotWaitForWorkers() {
        // Every request is answered within the same call, whatever the
        // worker is doing.
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: "running", snapshotRunning: true))
        for payload in ["WORKERS_STATUS c", "FORCE_SNAPSHOT c 1", "REFRESH_DB_CAT c 1 0", "RELOAD c", "X c"] {
            #expect(harness.ask(payload, channel: "c").count == 1)
        }
    }
}
