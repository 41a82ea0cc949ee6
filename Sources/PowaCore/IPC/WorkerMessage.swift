/// A line a worker writes on its stdout, one JSON object per line with a
/// `type` field.
public enum WorkerMessage: Equatable, Sendable {
    /// Sent on every change of any field of the status.
    case status(WorkerStatus)
    /// Sent every `heartbeatInterval(snapshotRunning:)`: the supervisor's
    /// watchdog replaces a worker that stays silent longer than it promised.
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
    /// Seconds between two heartbeats of an idle worker. An idle worker
    /// does little that can hang, and 1,000 idle workers beating every 3 s
    /// cost the supervisor 333 messages a second; at 20 s, 50, and a
    /// stopped idle worker is still replaced within 35 s.
    public static let idleHeartbeatInterval: Double = 20

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
