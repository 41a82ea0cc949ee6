import PropertyBased
import Testing

@testable import PowaCore

/// Properties of the NOTIFY protocol over generated requests: valid
/// commands, protocol words in any order, random bytes (invalid UTF-8
/// included), huge payloads, channel names with quotes, `-`, empty or too
/// long, from senders that may or may not ask.
///
/// - Parsing: any payload gives a request, which puts the payload back
///   together word for word.
/// - The machine: a request that names a usable channel gets exactly one
///   answer, on that channel, echoing its command (unless its command word
///   alone is so long that no answer fits in a notification); a request
///   that names none gets none; an unpermitted or malformed request
///   produces nothing but its answer and log lines: no reload, no message
///   to a worker, no signal.
@Suite struct ProtocolPropertyTests {
    /// Requests checked per run: `checks` sequences of 10 to 20 requests.
    static let checks = 1_000

    static let words = [
        "RELOAD", "WORKERS_STATUS", "FORCE_SNAPSHOT", "REFRESH_DB_CAT", "workers_status", "NOPE", "-", "", " ",
        "chan", "r1", "r99999", "c\"h", "c'h", "c\"'; DROP TABLE powa_servers; --", "é", "ü_chan", "💥",
        String(repeating: "c", count: 63), String(repeating: "c", count: 64), String(repeating: "é", count: 31),
        String(repeating: "é", count: 32), "0", "1", "2", "3", "-1", "+1", "007", "99999999999999999999999", "1e3",
        "0x10", "\t", "\n", "\\", "%s%n", "\u{0}", "\u{FFFD}", "\u{301}", "\u{301}chan", "e\u{301}",
    ]

    /// A payload, one of four shapes: words of the protocol in any order;
    /// a command and a channel then any words; random bytes decoded as the
    /// shell decodes a payload (invalid UTF-8 becomes U+FFFD); something huge.
    static var payload: Generator<String, Shrink.None<String>> {
        Generator(run: { rng in
            func pick(_ pool: [String]) -> String { pool[Int.random(in: 0..<pool.count, using: &rng)] }
            func someWords(_ range: ClosedRange<Int>) -> [String] {
                (0..<Int.random(in: range, using: &rng)).map { _ in pick(words) }
            }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4:
                return someWords(0...9).joined(separator: " ")
            case 4..<7:
                let command = pick(["RELOAD", "WORKERS_STATUS", "FORCE_SNAPSHOT", "REFRESH_DB_CAT"])
                let channel = pick(["chan", "-", "r7", "c'h", "c\"h", ""])
                return ([command, channel] + someWords(0...4)).joined(separator: " ")
            case 7..<9:
                let bytes = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng)
                }
                return String(decoding: bytes, as: UTF8.self)
            default:
                return pick(hugePayloads)
            }
        })
    }

    static let hugePayloads = [
        String(repeating: "A", count: 7_990) + " chan",
        String(repeating: "A", count: 7_975) + " chan",
        String(repeating: "A", count: 9_000),
        "WORKERS_STATUS chan " + String(repeating: "9", count: 7_980),
        "FORCE_SNAPSHOT chan " + String(repeating: "9", count: 7_980),
        "REFRESH_DB_CAT chan 1 0" + String(repeating: " ", count: 20_000),
        "REFRESH_DB_CAT chan 1 2000 " + Array(repeating: "db", count: 2_000).joined(separator: " "),
        String(repeating: "WORKERS_STATUS ", count: 600),
        "RELOAD " + String(repeating: "é", count: 4_000),
    ]

    @Test func anyPayloadParsesAndPutsItselfBackTogether() async {
        await propertyCheck(count: 10_000, input: Self.payload) { payload in
            let request = NotifyRequest(payload: payload)
            let words = [request.command] + (request.responseChannel.map { [$0] } ?? ["-"]) + request.arguments
            let rebuilt = words.joined(separator: " ")
            if request.responseChannel == nil, request.arguments.isEmpty {
                #expect(payload == request.command || payload == request.command + " -")
            } else {
                #expect(rebuilt == payload)
            }
            #expect(!request.command.unicodeScalars.contains(" "))
            #expect(!(request.responseChannel?.unicodeScalars.contains(" ") ?? false))
            _ = request.parsedCommand
        }
    }

    @Test func everyRequestIsAnsweredOnceAndOnlyPermittedWellFormedOnesAct() async {
        await propertyCheck(
            // The payloads, who sends each (one of six backends), and which backends may ask.
            count: Self.checks, input: Self.payload.array(of: 10...20), Gen.int(in: 1...6).array(of: 20),
            Gen.bool.array(of: 6)
        ) { payloads, senders, permissions in
            var harness = SupervisorHarness()
            let rows: [ServerRow] = [.sample(1), .sample(2), .sample(3)]
            harness.startRunning(rows)
            for srvid in 1...3 { harness.report(srvid, WorkerStatus(status: WorkerStatusText.running)) }
            for (payload, sender) in zip(payloads, senders) {
                let permitted = permissions[sender - 1]
                let actions = Self.handle(payload, from: Int32(sender), permitted: permitted, &harness)
                Self.checkProperties(payload, permitted: permitted, actions)
                // Let a reload finish so that the next can begin.
                if actions.count(.reloadConfigurationFile) == 1 {
                    _ = harness.send(
                        .configurationFileReloaded(.success(.init(configuration: harness.collector, path: "p"))))
                    _ = harness.send(.serverListRead(rows))
                }
                harness.advance(by: 0.5)
                harness.heartbeatAll()
            }
            #expect(harness.machine.requestCounters.total == payloads.count)
        }
    }

    /// What the shell does with a notification: hands it over unchecked,
    /// checks the sender when asked, resolves a conditional answer into
    /// what the repository sends.
    static func handle(
        _ payload: String, from sender: Int32, permitted: Bool, _ harness: inout SupervisorHarness
    ) -> [SupervisorAction] {
        var resolved: [SupervisorAction] = []
        for action in harness.send(.notificationFromUncheckedSender(payload: payload, senderPID: sender)) {
            switch action {
            case .checkSenderPermission(let checked, let pid):
                #expect(pid == sender && checked == payload)
                resolved += harness.send(
                    .notificationReceived(payload: checked, senderPermitted: permitted, senderPID: pid))
            case .answerNotificationIfPermitted(let channel, let pid, let answer, let denied, let request):
                #expect(pid == sender)
                resolved.append(.answerNotification(channel: channel, payload: permitted ? answer : denied))
                resolved += harness.send(.conditionalAnswerSent(request, senderPID: pid, senderPermitted: permitted))
            default:
                resolved.append(action)
            }
        }
        return resolved
    }

    static func checkProperties(_ payload: String, permitted: Bool, _ actions: [SupervisorAction]) {
        let request = NotifyRequest(payload: payload)
        let answers = actions.allAnswers
        for (channel, answer) in answers {
            #expect(NotifyRequest.isUsableChannel(channel))
            #expect(answer.utf8.count < NotifyAnswer.payloadLimitBytes)
        }
        // Some answer fits whenever the command word leaves room for the
        // shortest one, `COMMAND KO {ANSWER TOO LONG}`.
        let someAnswerFits =
            NotifyAnswer(command: request.command, status: .ko, data: NotifyAnswer.tooLongData).payload != nil
        if let channel = request.responseChannel, NotifyRequest.isUsableChannel(channel), someAnswerFits {
            #expect(answers.count == 1, "\(payload.prefix(100))")
            #expect(answers.first?.channel == channel)
            #expect(answers.first?.payload.hasPrefix(request.command + " ") == true)
            if !permitted {
                let denied = NotifyAnswer(command: request.command, status: .error, data: "Permission denied").payload
                #expect(answers.first?.payload == denied)
            }
        } else {
            #expect(answers.isEmpty, "\(payload.prefix(100))")
        }
        let malformed = (try? request.parsedCommand.get()) == nil
        let unknown = (try? request.parsedCommand.get()) == .unknown
        if !permitted || malformed || unknown {
            let others = actions.filter {
                switch $0 {
                case .answerNotification, .log: false
                default: true
                }
            }
            #expect(others.isEmpty, "\(payload.prefix(100)) (permitted: \(permitted)): \(others)")
        }
    }
}
