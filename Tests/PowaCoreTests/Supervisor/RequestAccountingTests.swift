import Testing

@testable import PowaCore

/// Every request is counted by command and outcome, and the warnings that
/// requests cause are aggregated: a flood of refused requests writes a few
/// lines, yet each request still gets its answer.
@Suite struct RequestAccountingTests {
    @Test func everyRequestIsCountedByCommandAndOutcome() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        harness.report(1, WorkerStatus(status: WorkerStatusText.running))
        _ = harness.ask("WORKERS_STATUS chan")
        _ = harness.ask("WORKERS_STATUS chan 1")
        _ = harness.ask("RELOAD chan")
        _ = harness.ask("FORCE_SNAPSHOT chan x")
        _ = harness.ask("FORCE_SNAPSHOT chan 99")
        _ = harness.ask("NOPE chan")
        _ = harness.notify("RELOAD chan", permitted: false)
        _ = harness.notify("WORKERS_STATUS chan", permitted: false)
        _ = harness.notify("RELOAD " + String(repeating: "c", count: 64))
        let counters = harness.machine.requestCounters
        #expect(counters[.workersStatus, .done] == 2)
        #expect(counters[.reload, .done] == 1)
        #expect(counters[.forceSnapshot, .invalid] == 1)
        #expect(counters[.forceSnapshot, .declined] == 1)
        #expect(counters[.unknown, .unknownCommand] == 1)
        #expect(counters[.reload, .refused] == 1)
        #expect(counters[.workersStatus, .refused] == 1)
        #expect(counters[.reload, .unanswerable] == 1)
        #expect(counters.total == 9)
    }

    @Test func aStatusTooLongToSendIsCountedSo() {
        var harness = SupervisorHarness()
        harness.startRunning((1...600).map { ServerRow.sample($0) })
        #expect(harness.ask("WORKERS_STATUS chan").first?.hasPrefix("WORKERS_STATUS KO ") == true)
        #expect(harness.machine.requestCounters[.workersStatus, .tooLong] == 1)
    }

    @Test func twoThousandRefusedRequestsWriteAFewLinesAndAreEachAnswered() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        var warnings: [String] = []
        var denied = 0
        for index in 0..<2_000 {
            let command = ["RELOAD", "WORKERS_STATUS", "FORCE_SNAPSHOT 1", "NOPE\(index)"][index % 4]
            let parts = command.split(separator: " ")
            let payload = ([String(parts[0]), "c\(index)"] + parts.dropFirst().map(String.init)).joined(separator: " ")
            let actions = harness.notify(payload, permitted: false)
            denied += actions.answers(on: "c\(index)").filter { $0.hasSuffix(" ERROR Permission denied") }.count
            warnings += actions.logs(.warning)
            #expect(actions.allMessages.isEmpty)
            #expect(actions.count(.reloadConfigurationFile) == 0)
            if index % 100 == 0 { warnings += harness.advance(by: 1).logs(.warning) }
        }
        warnings += harness.advance(by: 30).logs(.warning)
        #expect(denied == 2_000)
        // Four kinds over 20 s with a 10 s window: a first line and one
        // summary per window each.
        #expect(warnings.count <= 4 * 4, "\(warnings)")
        #expect(warnings.filter { !$0.contains(" more in the last ") }.count == 4, "\(warnings)")
        #expect(warnings.contains("refused RELOAD: the sender is not permitted"))
        #expect(warnings.contains("refused NOPE3: the sender is not permitted"))
        #expect(warnings.contains { $0.hasPrefix("refused unknown commands: the sender is not permitted: ") })
        let counted = warnings.compactMap { line -> Int? in
            guard let range = line.firstRange(of: ": the sender is not permitted: ") else { return nil }
            return Int(line[range.upperBound...].prefix(while: \.isNumber))
        }.reduce(0, +)
        #expect(counted + 4 == 2_000, "every refusal is in a line or a count")
        #expect(harness.machine.requestCounters[.reload, .refused] == 500)
        #expect(harness.machine.requestCounters.total == 2_000)
    }

    @Test func aPendingSummaryIsADeadline() {
        var harness = SupervisorHarness()
        harness.startRunning([])
        _ = harness.notify("RELOAD a", permitted: false)
        _ = harness.notify("RELOAD b", permitted: false)
        #expect(harness.machine.nextDeadline == harness.now + RequestLogThrottle.standardInterval)
    }
}

/// A request's words reach the log shortened and on one line: no request
/// can forge a log line.
@Suite struct RequestLogTextTests {
    @Test func controlCharactersAreEscapedAndLongWordsShortened() {
        #expect(LoggedRequestText.shortened("RELOAD") == "RELOAD")
        #expect(
            LoggedRequestText.shortened("a\nb\r\tc\u{0}\u{7F}\u{85}\u{2028}é")
                == "a\\u{a}b\\u{d}\\u{9}c\\u{0}\\u{7f}\\u{85}\\u{2028}é")
        #expect(
            LoggedRequestText.shortened(String(repeating: "x", count: 65)) == String(repeating: "x", count: 64) + "…")
    }

    @Test func aRefusedRequestCannotForgeALogLine() {
        var harness = SupervisorHarness()
        harness.startRunning([])
        let forged = "NOPE\n2026-12-01 10:00:00,000 - INFO  : reload done chan"
        let warnings = harness.notify(forged, permitted: false).logs(.warning)
        #expect(warnings.count == 1)
        #expect(warnings.allSatisfy { !$0.contains("\n") })
    }
}
