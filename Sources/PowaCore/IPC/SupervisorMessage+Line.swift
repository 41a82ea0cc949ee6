/// The supervisor's lines to a worker as bytes. `slot_granted`, sent once
/// a snapshot to every worker, never changes: it is encoded once instead
/// of by `JSONEncoder` each time.
extension SupervisorMessage {
    static let slotGrantedLine: [UInt8] = JSONLines.encode(SupervisorMessage.slotGranted) + [UInt8(ascii: "\n")]

    /// One message as a line, newline included.
    public func line() -> [UInt8] {
        if case .slotGranted = self { return Self.slotGrantedLine }
        return JSONLines.encode(self) + [UInt8(ascii: "\n")]
    }

    /// Whether `line` (without its newline) is the `slot_granted` line this
    /// build's supervisor sends; any other spelling goes through the decoder.
    public static func isSlotGranted(_ line: [UInt8]) -> Bool {
        line.count == slotGrantedLine.count - 1 && line.elementsEqual(slotGrantedLine.dropLast())
    }

    /// Decodes one line (without its newline): `slot_granted`, the line of
    /// every snapshot, by its bytes (a JSON decoder was 2% of a worker's
    /// CPU), any other line by `JSONLines`.
    public static func decode(line: [UInt8]) throws(JSONLines.DecodeError) -> SupervisorMessage {
        if isSlotGranted(line) { return .slotGranted }
        return try JSONLines.decode(SupervisorMessage.self, from: line)
    }
}
