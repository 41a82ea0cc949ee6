/// A line a worker writes on its stdout, one JSON object per line with a
/// `type` field.
public enum WorkerMessage: Equatable, Sendable {
    /// Sent on every change of any field of the status.
    case status(WorkerStatus)
    /// Sent when no line went out for `heartbeatInterval(snapshotRunning:)`
    /// (any line is a sign of life): the supervisor's watchdog replaces a
    /// worker that stays silent longer than it promised.
    case heartbeat
    /// The worker wants to connect to the repository (snapshot, version
    /// save): it waits for `slot_granted` first.
    case slotRequest
    /// The worker is done with the repository (or gave up waiting).
    case slotRelease

    /// Seconds between two heartbeats during a snapshot: short beside the
    /// supervisor's 15 s watchdog (five missed in a row before it acts), so
    /// that a snapshot stuck with its worker is noticed quickly.
    public static let heartbeatInterval: Double = 3
    /// Seconds an idle worker may stay silent. An idle worker does little
    /// that can hang, and what it hangs in costs nothing until its next
    /// snapshot, which the supervisor then sees begin or not. Heartbeats
    /// were every 20 s: at 500 servers, 25 messages a second, more than
    /// their snapshots' own lines and as many wake-ups of each worker. A
    /// worker at a frequency of 60 s or less now sends none, and a stopped
    /// idle worker is replaced within 75 s (60 s plus the watchdog's 15).
    public static let idleHeartbeatInterval: Double = 60

    /// The interval the worker keeps, and the supervisor expects, in a state.
    public static func heartbeatInterval(snapshotRunning: Bool) -> Double {
        snapshotRunning ? heartbeatInterval : idleHeartbeatInterval
    }
}

extension WorkerMessage: Codable {
    enum CodingKeys: String, CodingKey { case type, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "status": self = .status(try WorkerStatus(from: decoder))
        case "heartbeat": self = .heartbeat
        case "slot_request": self = .slotRequest
        case "slot_release": self = .slotRelease
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c, debugDescription: "unknown message type \"\(type)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .status(let status):
            try c.encode("status", forKey: .type)
            try status.encode(to: encoder)
        case .heartbeat:
            try c.encode("heartbeat", forKey: .type)
        case .slotRequest:
            try c.encode("slot_request", forKey: .type)
        case .slotRelease:
            try c.encode("slot_release", forKey: .type)
        }
    }
}
