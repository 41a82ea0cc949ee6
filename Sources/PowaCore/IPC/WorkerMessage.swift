/// A line a worker writes on its stdout, one JSON object per line with a
/// `type` field.
public enum WorkerMessage: Equatable, Sendable {
    /// Sent on every change of any field of the status.
    case status(WorkerStatus)
    /// Sent every `WorkerMessage.heartbeatInterval`, also during a snapshot:
    /// the supervisor's watchdog replaces a worker that stays silent.
    case heartbeat

    /// Seconds between two heartbeats: short beside the supervisor's
    /// 15 s watchdog (five missed in a row before it acts), long enough
    /// that idle workers cost the supervisor next to nothing.
    public static let heartbeatInterval: Double = 3
}

extension WorkerMessage: Codable {
    enum CodingKeys: String, CodingKey { case type, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "status": self = .status(try WorkerStatus(from: decoder))
        case "heartbeat": self = .heartbeat
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
        }
    }
}
