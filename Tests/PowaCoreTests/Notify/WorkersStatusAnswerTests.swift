import FoundationEssentials
import Testing

@testable import PowaCore

/// `WORKERS_STATUS` always gets an answer that PostgreSQL can send: the
/// statuses when they fit in 7,999 bytes, else `KO` saying how to ask for
/// one server.
@Suite struct WorkersStatusAnswerTests {
    static func payload(_ statuses: [Int: String]) -> String {
        let (status, data) = WorkersStatusAnswer.answer(statuses)
        return "WORKERS_STATUS \(status.rawValue) \(data)"
    }

    static func running(_ srvids: ClosedRange<Int>) -> [Int: String] {
        Dictionary(uniqueKeysWithValues: srvids.map { ($0, WorkerStatusText.running) })
    }

    @Test func theJSONIsCompact() {
        #expect(
            WorkersStatusJSON.encode([2: "running", 1: "stopping", 10: "x"])
                == #"{"1":"stopping","2":"running","10":"x"}"#)
        #expect(WorkersStatusJSON.encode([:]) == "{}")
        #expect(WorkersStatusJSON.encode([7: ""]) == #"{"7":""}"#)
    }

    @Test func fiveHundredRunningServersFit() throws {
        let payload = Self.payload(Self.running(1...500))
        #expect(payload.utf8.count < NotifyAnswer.payloadLimitBytes)
        #expect(payload.hasPrefix("WORKERS_STATUS OK {"))
        let json = Data(payload.dropFirst("WORKERS_STATUS OK ".count).utf8)
        let decoded = try JSONDecoder().decode([String: String].self, from: json)
        #expect(decoded.count == 500)
        #expect(decoded.values.allSatisfy { $0 == "running" })
    }

    /// 505 running servers make 7,991 bytes, 506 would make 8,007.
    @Test func beyondTheLimitTheAnswerIsKOAndSaysHowToAskForOneServer() {
        #expect(Self.payload(Self.running(1...505)).utf8.count == 7991)
        let payload = Self.payload(Self.running(1...506))
        #expect(payload == "WORKERS_STATUS KO " + WorkersStatusAnswer.tooLongReason(serverCount: 506))
        #expect(payload.contains("506 servers"))
        #expect(payload.contains("WORKERS_STATUS <channel> <srvid>"))
        #expect(payload.utf8.count < NotifyAnswer.payloadLimitBytes)
    }

    /// `WORKERS_STATUS OK {"1":"` is 24 bytes and `"}` 2: a status of 7,973
    /// bytes makes 7,999, the longest payload PostgreSQL accepts.
    @Test func theBoundaryIsEightThousandBytes() {
        let longest = Self.payload([1: String(repeating: "s", count: 7973)])
        #expect(longest.utf8.count == 7999)
        #expect(longest.hasPrefix("WORKERS_STATUS OK "))
        let oneMore = Self.payload([1: String(repeating: "s", count: 7974)])
        #expect(oneMore == "WORKERS_STATUS KO " + WorkersStatusAnswer.tooLongReason(serverCount: 1))
    }

    /// Bytes count, not characters: a two-byte character past the limit
    /// turns the answer into KO.
    @Test func theLimitCountsUTF8Bytes() {
        #expect(Self.payload([1: String(repeating: "s", count: 7971) + "é"]).utf8.count == 7999)
        #expect(Self.payload([1: String(repeating: "s", count: 7972) + "é"]).hasPrefix("WORKERS_STATUS KO "))
    }

    @Test func whateverTheStatusesTheAnswerIsSendable() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            let count = Int.random(in: 0...700, using: &generator)
            var statuses: [Int: String] = [:]
            for _ in 0..<count {
                let srvid = Int.random(in: 0...Int.max, using: &generator)
                statuses[srvid] = String(repeating: "é\"\\\n", count: Int.random(in: 0...8, using: &generator))
            }
            let payload = Self.payload(statuses)
            #expect(payload.utf8.count < NotifyAnswer.payloadLimitBytes)
        }
    }
}
