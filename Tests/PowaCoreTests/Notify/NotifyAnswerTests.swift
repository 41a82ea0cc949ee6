import FoundationEssentials
import Testing

@testable import PowaCore

@Suite struct NotifyAnswerTests {
    @Test func payloadIsCommandStatusData() {
        #expect(NotifyAnswer(command: "RELOAD", status: .ok, data: "OK").payload == "RELOAD OK OK")
        #expect(NotifyAnswer(command: "X", status: .unknown, data: "").payload == "X UNKNOWN ")
    }

    @Test func answersOfEightThousandBytesOrMoreAreReplaced() {
        let prefix = "WORKERS_STATUS OK "
        let fits = String(repeating: "x", count: 7999 - prefix.utf8.count)
        #expect(NotifyAnswer(command: "WORKERS_STATUS", status: .ok, data: fits).payload?.utf8.count == 7999)
        let tooLong = fits + "x"
        #expect(
            NotifyAnswer(command: "WORKERS_STATUS", status: .ok, data: tooLong).payload
                == "WORKERS_STATUS KO {ANSWER TOO LONG}")
    }

    @Test func theLimitCountsUTF8Bytes() {
        // 3999 two-byte characters: 7998 bytes of data, well under 8000 characters.
        let data = String(repeating: "é", count: 3999)
        #expect(NotifyAnswer(command: "C", status: .ok, data: data).payload == "C KO {ANSWER TOO LONG}")
    }

    @Test func noAnswerWhenEvenTheReplacementDoesNotFit() {
        // Full answer 8009 bytes; the replacement would be 7980 + 21 = 8001.
        let command = String(repeating: "C", count: 7980)
        let data = String(repeating: "x", count: 20)
        #expect(NotifyAnswer(command: command, status: .unknown, data: data).payload?.utf8.count == nil)
        // One byte less and the replacement fits.
        let shorter = String(repeating: "C", count: 7978)
        #expect(
            NotifyAnswer(command: shorter, status: .unknown, data: data).payload?.hasSuffix(" KO {ANSWER TOO LONG}")
                == true)
    }

    @Test func workersStatusJSONIsNumericallyOrderedAndValid() throws {
        let statuses = [
            12: "running", 2: "no connection to remote server", 1: "quote \" back \\ nl \n tab \t nul \u{0} é",
        ]
        let json = WorkersStatusJSON.encode(statuses)
        #expect(json.hasPrefix(#"{"1":"#))
        #expect(json.firstRange(of: #""2""#)!.lowerBound < json.firstRange(of: #""12""#)!.lowerBound)
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        #expect(decoded == Dictionary(uniqueKeysWithValues: statuses.map { (String($0.key), $0.value) }))
        #expect(WorkersStatusJSON.encode([:]) == "{}")
    }

    @Test func workersStatusJSONSurvivesAnyStatusText() throws {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let scalars = (0..<Int.random(in: 0..<20, using: &generator)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0..<0x11_0000, using: &generator))
            }
            let text = String(String.UnicodeScalarView(scalars))
            let json = WorkersStatusJSON.encode([5: text])
            let decoded = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
            #expect(decoded == ["5": text])
        }
    }
}
