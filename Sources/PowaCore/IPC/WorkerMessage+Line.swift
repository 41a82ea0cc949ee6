/// The worker's lines as bytes, with shortcuts for the frequent ones.
///
/// On a collector with many servers the supervisor reads a few lines a
/// snapshot from every worker, and Foundation's JSON coders cost more than
/// everything else done for them. The lines without fields (heartbeat,
/// slot request and release) never change: each is encoded once and
/// recognised by comparing bytes. A status line is written directly and
/// parsed by `StrictJSONParser`, then mapped field by field
/// (`WorkerStatus+JSON`).
/// Any other spelling of a fieldless message (other spacing, extra fields)
/// is parsed like a status line, and means the same.
extension WorkerMessage {
    /// `{"type":"heartbeat"}` followed by a newline, encoded once.
    public static let heartbeatLine: [UInt8] = JSONLines.encode(WorkerMessage.heartbeat) + [UInt8(ascii: "\n")]
    static let slotRequestLine: [UInt8] = JSONLines.encode(WorkerMessage.slotRequest) + [UInt8(ascii: "\n")]
    static let slotReleaseLine: [UInt8] = JSONLines.encode(WorkerMessage.slotRelease) + [UInt8(ascii: "\n")]
    /// Each fieldless message with its line, newline excluded.
    static let fieldlessLines: [(message: WorkerMessage, line: ArraySlice<UInt8>)] = [
        (.heartbeat, heartbeatLine.dropLast()), (.slotRequest, slotRequestLine.dropLast()),
        (.slotRelease, slotReleaseLine.dropLast()),
    ]

    /// One message as a line, newline included.
    public func line() -> [UInt8] {
        switch self {
        case .heartbeat: Self.heartbeatLine
        case .slotRequest: Self.slotRequestLine
        case .slotRelease: Self.slotReleaseLine
        case .status(let status): status.jsonLine()
        }
    }

    /// Decodes one line (without its newline).
    public static func decode(line: ArraySlice<UInt8>) throws(JSONLines.DecodeError) -> WorkerMessage {
        try decode(line: Array(line))
    }

    /// Decodes one line (without its newline). Concrete bytes, not any
    /// collection: a generic called from the supervisor's module ran
    /// unspecialised, and comparing a line with the fieldless ones byte by
    /// byte through witness calls was 7% of the supervisor's CPU (perf, 500
    /// workers).
    public static func decode(line: [UInt8]) throws(JSONLines.DecodeError) -> WorkerMessage {
        for fieldless in fieldlessLines where line.count == fieldless.line.count && line.elementsEqual(fieldless.line) {
            return fieldless.message
        }
        let value: JSONValue
        do {
            value = try StrictJSONParser.parse(line)
        } catch {
            throw .notJSON("\(error)")
        }
        guard case .object = value else { throw .notJSON("\(value.typeDescription), not an object") }
        guard case .string(let type)? = value["type"] else { throw .invalidMessage("type: a string is required") }
        switch type {
        case "status": return .status(try WorkerStatus(json: value))
        case "heartbeat": return .heartbeat
        case "slot_request": return .slotRequest
        case "slot_release": return .slotRelease
        default: throw .invalidMessage("type: unknown message type \"\(type)\"")
        }
    }
}
