import Testing

@testable import PowaCore

/// The supervisor's reading of worker lines (constant lines compared as
/// bytes, status lines parsed without `JSONDecoder`) must agree with the
/// JSON coders in both directions, and must not swallow anything invalid.
@Suite struct WorkerMessageLineTests {
    static let statuses = [
        WorkerStatus(status: WorkerStatusText.running, snapshotRunning: false, snapshotsTaken: 2),
        WorkerStatus(status: WorkerStatusText.noRemoteConnection, lastError: "x\ny \"quoted\" \\ \u{1}é😀"),
        WorkerStatus(
            status: WorkerStatusText.running, snapshotRunning: true, lastSnapshotStart: 1_796_183_624.646632,
            lastSnapshotDuration: 0.15711259841918945, lastError: nil, snapshotsTaken: 4, snapshotsFailed: 1,
            datasourceErrors: 3, rowsCopied: 2367, bytesCopied: 226_551, lastSnapshotLateness: 0),
        WorkerStatus(status: "", lastSnapshotStart: 1e-7, lastSnapshotDuration: 12, lastSnapshotLateness: 1e300),
    ]

    static let messages: [WorkerMessage] = [.heartbeat, .slotRequest, .slotRelease] + statuses.map { .status($0) }

    @Test func fieldlessLinesAreTheJSONEncodingWithANewline() {
        for message: WorkerMessage in [.heartbeat, .slotRequest, .slotRelease] {
            #expect(message.line() == JSONLines.encode(message) + [UInt8(ascii: "\n")])
        }
    }

    /// The status line written by hand has the synthesized encoding's
    /// members, and reads back the same with Foundation's decoder.
    @Test func statusLinesHoldTheSameMembersAsTheJSONEncoding() throws {
        for status in Self.statuses {
            let line = WorkerMessage.status(status).line()
            #expect(line.last == UInt8(ascii: "\n"))
            #expect(line.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") }, "one line")
            let ours = try StrictJSONParser.parse(Array(line.dropLast()))
            let synthesized = try StrictJSONParser.parse(JSONLines.encode(WorkerMessage.status(status)))
            #expect(ours.keys == synthesized.keys)
            #expect(try JSONLines.decode(WorkerMessage.self, from: line.dropLast()) == .status(status))
        }
    }

    /// A number that is not finite is written as null (absent), not as a
    /// token no reader accepts.
    @Test func aNonFiniteNumberIsWrittenAsNull() throws {
        let status = WorkerStatus(status: "running", lastSnapshotDuration: .nan, lastSnapshotLateness: .infinity)
        let decoded = try WorkerMessage.decode(line: WorkerMessage.status(status).line().dropLast())
        #expect(decoded == .status(WorkerStatus(status: "running")))
    }

    @Test func everyLineDecodesToWhatTheJSONDecoderSays() throws {
        for message in Self.messages {
            let line = message.line().dropLast()
            #expect(try WorkerMessage.decode(line: line) == message)
            #expect(try WorkerMessage.decode(line: line) == JSONLines.decode(WorkerMessage.self, from: line))
        }
    }

    @Test func otherSpellingsMeanTheSame() throws {
        let spellings: [(String, WorkerMessage)] = [
            (#"{ "type": "heartbeat" }"#, .heartbeat),
            (#"{"type":"heartbeat","extra":1}"#, .heartbeat),
            (#"{"type":"slot_request","status":"x"}"#, .slotRequest),
            (#"{"snapshot_running":false,"status":"running","type":"status"}"#, .status(.init(status: "running"))),
            (
                #"{"type":"status","status":"running","snapshot_running":true,"last_error":null,"rows_copied":5}"#,
                .status(.init(status: "running", snapshotRunning: true, rowsCopied: 5))
            ),
        ]
        for (text, message) in spellings {
            #expect(try WorkerMessage.decode(line: Array(text.utf8)) == message, "\(text)")
            #expect(try JSONLines.decode(WorkerMessage.self, from: Array(text.utf8)) == message, "\(text)")
        }
    }

    /// Each invalid line is an error both ways (the supervisor logs and
    /// skips it), never a message with a made-up field.
    @Test(arguments: [
        #"{"type":"heartbeaT"}"#, #"{"type":"heartbeat""#, #"{"type":"heartbeat"}}"#, "", "[1,2]", "\"status\"",
        #"{"type":"explode"}"#, #"{"type":7}"#, #"{"status":"running","snapshot_running":false}"#,
        #"{"type":"status","snapshot_running":false}"#, #"{"type":"status","status":"running"}"#,
        #"{"type":"status","status":1,"snapshot_running":false}"#,
        #"{"type":"status","status":"running","snapshot_running":"no"}"#,
        #"{"type":"status","status":"running","snapshot_running":false,"snapshots_taken":1.5}"#,
        #"{"type":"status","status":"running","snapshot_running":false,"last_snapshot_start":"1"}"#,
        #"{"type":"status","status":"running","snapshot_running":false,"rows_copied":99999999999999999999999}"#,
        #"{"type":"status","status":"running","snapshot_running":false} x"#,
    ])
    func invalidLinesAreErrors(text: String) {
        #expect(throws: JSONLines.DecodeError.self) { try WorkerMessage.decode(line: Array(text.utf8)) }
        #expect(throws: JSONLines.DecodeError.self) {
            try JSONLines.decode(WorkerMessage.self, from: Array(text.utf8))
        }
    }

    @Test func supervisorLinesAreTheJSONEncodingWithANewline() throws {
        for message: SupervisorMessage in [.slotGranted, .stop, .forceSnapshot, .refreshCatalogs(dbnames: ["a"])] {
            #expect(message.line() == JSONLines.encode(message) + [UInt8(ascii: "\n")])
            #expect(try JSONLines.decode(SupervisorMessage.self, from: message.line().dropLast()) == message)
        }
    }
}
