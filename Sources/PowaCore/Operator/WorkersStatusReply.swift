/// Reads the collector's answer to `WORKERS_STATUS` as powa-web does:
/// `WORKERS_STATUS OK {"1": "running", …}`.
public enum WorkersStatusReply {
    /// The statuses by server id; nil when the payload is not a successful
    /// `WORKERS_STATUS` answer (then `refusal` says why, when it can).
    public static func statuses(payload: String) -> [Int: String]? {
        let prefix = "WORKERS_STATUS OK "
        guard payload.hasPrefix(prefix),
            case .object(let members)? = try? StrictJSONParser.parse(Array(payload.dropFirst(prefix.count).utf8))
        else { return nil }
        var statuses: [Int: String] = [:]
        for member in members {
            guard let srvid = Int(member.key), case .string(let status) = member.value else { return nil }
            statuses[srvid] = status
        }
        return statuses
    }

    /// What a non-OK answer says, e.g. `ERROR Permission denied`.
    public static func refusal(payload: String) -> String {
        String(payload.dropFirst("WORKERS_STATUS ".count).prefix(200))
    }
}
