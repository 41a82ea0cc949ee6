import Testing

@testable import PowaCore

/// No payload, however strange, may crash the supervisor, make it answer
/// something PostgreSQL would reject, or act on a request it should refuse.
@Suite struct HostileNotificationTests {
    static func checkAnswers(_ actions: [SupervisorAction]) {
        for (channel, payload) in actions.allAnswers {
            #expect(NotifyRequest.isUsableChannel(channel))
            #expect(payload.utf8.count < NotifyAnswer.payloadLimitBytes)
            let words = payload.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            #expect(words.count >= 3)
            #expect(["OK", "KO", "ERROR", "UNKNOWN"].contains(String(words.count >= 2 ? words[1] : "")))
        }
    }

    @Test func randomBytes() {
        var generator = SeededGenerator(seed: 42)
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2)])
        let alphabet = Array("RELOAD WORKERS_STATUS FORCE_SNAPSHOT REFRESH_DB_CAT - 0 1 2 ".utf8)
        for round in 0..<3_000 {
            let length = Int.random(in: 0..<(round % 10 == 0 ? 9_000 : 80), using: &generator)
            let bytes: [UInt8] = (0..<length).map { _ in
                Bool.random(using: &generator)
                    ? alphabet.randomElement(using: &generator)!
                    : UInt8.random(in: 0...255, using: &generator)
            }
            let payload = NotifyRequest(payloadBytes: bytes)
            let text = ([payload.command, payload.responseChannel ?? "-"] + payload.arguments).joined(separator: " ")
            let actions = harness.notify(text, permitted: Bool.random(using: &generator))
            Self.checkAnswers(actions)
            if round % 50 == 0 { harness.heartbeatAll() }
        }
    }

    @Test func randomWordsFromTheProtocol() {
        var generator = SeededGenerator(seed: 2026)
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1), .sample(2), .sample(3)])
        let words = [
            "RELOAD", "WORKERS_STATUS", "FORCE_SNAPSHOT", "REFRESH_DB_CAT", "-", "chan", "", "0", "1", "2",
            "3", "-1", "99999999999999999999", "x", "é", "\"", "'", "\\", "\n", "💥", "1e3", "0x10",
        ]
        for _ in 0..<5_000 {
            let count = Int.random(in: 0..<8, using: &generator)
            let payload = (0..<count).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            let permitted = Int.random(in: 0..<4, using: &generator) != 0
            let actions = harness.notify(payload, permitted: permitted)
            Self.checkAnswers(actions)
            if !permitted {
                #expect(actions.allMessages.isEmpty)
                #expect(actions.count(.reloadConfigurationFile) == 0)
            }
            // Let reloads complete so that more can start.
            if actions.count(.reloadConfigurationFile) == 1 {
                _ = harness.send(
                    .configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
                _ = harness.send(.serverListRead([.sample(1), .sample(2), .sample(3)]))
            }
            if Bool.random(using: &generator) {
                harness.advance(by: 0.5)
                harness.heartbeatAll()
            }
        }
    }

    @Test func hugePayloads() {
        var harness = SupervisorHarness()
        harness.startRunning([.sample(1)])
        let manySpaces = "REFRESH_DB_CAT chan 1 0" + String(repeating: " ", count: 100_000)
        #expect(
            harness.ask(manySpaces).first?.hasPrefix("REFRESH_DB_CAT ERROR REFRESH_DB_CAT announced 0 databases")
                == true)
        let longCommand = String(repeating: "A", count: 7_990) + " chan"
        let actions = harness.notify(longCommand)
        #expect(actions.allAnswers.isEmpty, "even the short answer would not fit")
        Self.checkAnswers(actions)
        let longArgument = "FORCE_SNAPSHOT chan " + String(repeating: "9", count: 7_980)
        #expect(harness.ask(longArgument) == ["FORCE_SNAPSHOT KO {ANSWER TOO LONG}"])
    }

    @Test func quotesAndUnicodeAreEchoedVerbatim() {
        var harness = SupervisorHarness()
        harness.startRunning([])
        #expect(harness.ask("D'oh\"é💥 chan") == ["D'oh\"é💥 UNKNOWN unknown command, ignored"])
        // Any channel name is fine: the shell passes it to pg_notify as a value.
        #expect(
            harness.ask("WORKERS_STATUS chan'; DROP TABLE powa_servers; --", channel: "chan';")
                == ["WORKERS_STATUS OK {}"])
    }
}
