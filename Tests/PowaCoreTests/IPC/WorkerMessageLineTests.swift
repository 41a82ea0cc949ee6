import Testing

@testable import PowaCore

/// The heartbeat shortcut must agree with the JSON coders in both
/// directions, and must not swallow anything that is not a heartbeat.
@Suite struct WorkerMessageLineTests {
    @Test func linesAreTheJSONEncodingWithANewline() {
        let status = WorkerStatus(status: WorkerStatusText.running, snapshotRunning: false, snapshotsTaken: 2)
        for message: WorkerMessage in [.heartbeat, .status(status)] {
            #expect(message.line() == JSONLines.encode(message) + [UInt8(ascii: "\n")])
        }
    }

    @Test func everyLineDecodesToWhatTheJSONDecoderSays() throws {
        let status = WorkerStatus(status: WorkerStatusText.noRemoteConnection, lastError: "x\ny")
        for message: WorkerMessage in [.heartbeat, .status(status)] {
            let line = message.line().dropLast()
            #expect(try WorkerMessage.decode(line: line) == message)
            #expect(try WorkerMessage.decode(line: line) == JSONLines.decode(WorkerMessage.self, from: line))
        }
        // Other spellings of a heartbeat take the slow path and still work.
        for text in [#"{ "type": "heartbeat" }"#, #"{"type":"heartbeat","extra":1}"#] {
            #expect(try WorkerMessage.decode(line: Array(text.utf8)) == .heartbeat)
        }
    }

    @Test func nearMissesAreNotHeartbeats() {
        for text in [#"{"type":"heartbeaT"}"#, #"{"type":"heartbeat""#, #"{"type":"heartbeat"}}"#, ""] {
            #expect(throws: JSONLines.DecodeError.self) { try WorkerMessage.decode(line: Array(text.utf8)) }
        }
    }
}
