import Testing

@testable import PowaCore

@Suite struct IPCMessageTests {
    let config = WorkerConfiguration(
        srvid: 3, name: "127.0.0.1:5433", frequency: 300,
        server: .init(host: "127.0.0.1", port: 5433, user: "powa", password: "s3cr\"et", dbname: "powa"),
        repositoryDSN: "postgresql://powa@localhost/powa", debug: false)

    @Test func supervisorMessagesRoundTrip() throws {
        for message: SupervisorMessage in [
            .start(config), .reload(config), .updateVersions, .forceSnapshot,
            .refreshCatalogs(dbnames: ["a b", "é"]), .stop, .slotGranted,
        ] {
            let line = JSONLines.encode(message)
            #expect(!line.contains(UInt8(ascii: "\n")))
            #expect(try JSONLines.decode(SupervisorMessage.self, from: line) == message)
        }
    }

    /// The worker recognises the supervisor's `slot_granted` line by its
    /// bytes; that shortcut must agree with the decoder, and take nothing else.
    @Test func slotGrantedIsRecognisedByItsBytesOnly() throws {
        let line = Array(SupervisorMessage.slotGranted.line().dropLast())
        #expect(SupervisorMessage.isSlotGranted(line))
        #expect(try JSONLines.decode(SupervisorMessage.self, from: line) == .slotGranted)
        for other: SupervisorMessage in [.stop, .forceSnapshot, .updateVersions] {
            #expect(!SupervisorMessage.isSlotGranted(Array(other.line().dropLast())))
        }
        #expect(!SupervisorMessage.isSlotGranted(Array(SupervisorMessage.slotGranted.line())))
        #expect(!SupervisorMessage.isSlotGranted(line.dropLast() + Array(#"X}"#.utf8)))
    }

    @Test func workerMessagesRoundTrip() throws {
        let status = WorkerStatus(
            status: WorkerStatusText.running, snapshotRunning: true, lastSnapshotStart: 1_764_000_000.5,
            lastSnapshotDuration: 0.25, lastError: "boom\nline 2", snapshotsTaken: 7)
        for message: WorkerMessage in [.status(status), .heartbeat, .slotRequest, .slotRelease] {
            let line = JSONLines.encode(message)
            #expect(!line.contains(UInt8(ascii: "\n")))
            #expect(try JSONLines.decode(WorkerMessage.self, from: line) == message)
        }
    }

    @Test func unknownFieldsAreIgnored() throws {
        let line = Array(#"{"type":"heartbeat","extra":{"nested":[1,2]}}"#.utf8)
        #expect(try JSONLines.decode(WorkerMessage.self, from: line) == .heartbeat)
    }

    @Test func malformedLinesAreTypedErrors() {
        #expect(throws: JSONLines.DecodeError.self) {
            try JSONLines.decode(SupervisorMessage.self, from: Array("not json".utf8))
        }
        #expect(throws: JSONLines.DecodeError.self) {
            try JSONLines.decode(SupervisorMessage.self, from: Array(#"{"type":"explode"}"#.utf8))
        }
        // `start` without its config, and with a wrongly typed field.
        #expect(throws: JSONLines.DecodeError.self) {
            try JSONLines.decode(SupervisorMessage.self, from: Array(#"{"type":"start"}"#.utf8))
        }
        #expect(throws: JSONLines.DecodeError.self) {
            try JSONLines.decode(
                SupervisorMessage.self,
                from: Array(#"{"type":"start","config":{"srvid":"one"}}"#.utf8))
        }
    }

    /// A start line without `snapshot_slots` (a worker driven without a
    /// supervisor) does not wait for slots; the supervisor's does.
    @Test func snapshotSlotsAreOptInInTheStartLine() throws {
        var withSlots = config
        withSlots.usesSnapshotSlots = true
        let line = JSONLines.encode(SupervisorMessage.start(withSlots))
        #expect(try JSONLines.decode(SupervisorMessage.self, from: line) == .start(withSlots))
        let legacy = Array(
            String(decoding: JSONLines.encode(SupervisorMessage.start(config)), as: UTF8.self)
                .replacing(#","snapshot_slots":false"#, with: "").utf8)
        #expect(!String(decoding: legacy, as: UTF8.self).contains("snapshot_slots"))
        #expect(try JSONLines.decode(SupervisorMessage.self, from: legacy) == .start(config))
    }
}
