/// The worker's lines as bytes, with a shortcut for the heartbeat.
///
/// A worker sends a heartbeat every few seconds whatever it does, so on a
/// collector with many servers heartbeats are most of the pipe traffic, and
/// Foundation's JSON coders cost more than everything else done for them.
/// The heartbeat line never changes: it is encoded once, and recognised by
/// comparing bytes before any JSON decoding. Any other spelling of a
/// heartbeat (other spacing, extra fields) still decodes the slow way.
extension WorkerMessage {
    /// `{"type":"heartbeat"}` followed by a newline, encoded once.
    public static let heartbeatLine: [UInt8] = JSONLines.encode(WorkerMessage.heartbeat) + [UInt8(ascii: "\n")]

    /// One message as a line, newline included.
    public func line() -> [UInt8] {
        if case .heartbeat = self { return Self.heartbeatLine }
        return JSONLines.encode(self) + [UInt8(ascii: "\n")]
    }

    /// Decodes one line (without its newline).
    public static func decode(line: some Collection<UInt8>) throws(JSONLines.DecodeError) -> WorkerMessage {
        if line.count == heartbeatLine.count - 1, line.elementsEqual(heartbeatLine.dropLast()) {
            return .heartbeat
        }
        return try JSONLines.decode(WorkerMessage.self, from: line)
    }
}
