/// One request received on the `powa_collector` channel:
/// `COMMAND RESPONSE_CHANNEL ARGS…`.
///
/// The payload is split on single spaces exactly as the reference does
/// (Python's `str.split(' ')`): two spaces in a row make an empty word, tabs
/// and newlines stay inside words, and a space followed by a combining mark
/// still splits. A payload without a second word, like
/// `RELOAD`, has no response channel. Nothing here can fail: any string,
/// however hostile, gives a request, and `command` interprets it.
public struct NotifyRequest: Equatable, Sendable {
    /// PostgreSQL rejects channel names of `NAMEDATALEN` (64) bytes or more.
    public static let maximumChannelBytes = 63

    /// The first word, echoed as the first word of the answer.
    public var command: String
    /// The channel to answer on; nil when the sender wants no answer (`-`
    /// or no second word).
    public var responseChannel: String?
    /// The words after the channel, empty words included.
    public var arguments: [String]

    public init(payload: String) {
        // On the space character itself, not on Swift's characters: a space
        // followed by a combining mark is one Character, which Python
        // still splits.
        var words = payload.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        command = words.removeFirst()  // split always yields at least one word
        let channel = words.isEmpty ? "-" : words.removeFirst()
        responseChannel = channel == "-" ? nil : channel
        arguments = words
    }

    /// For a payload that arrives as bytes: invalid UTF-8 sequences become
    /// U+FFFD rather than failing, so a garbled request still gets an answer.
    public init(payloadBytes: some Collection<UInt8>) {
        self.init(payload: String(decoding: payloadBytes, as: UTF8.self))
    }

    /// Whether PostgreSQL can send a NOTIFY on `channel`: not empty, and
    /// under `NAMEDATALEN` bytes (`pg_notify` raises an error otherwise).
    public static func isUsableChannel(_ channel: String) -> Bool {
        !channel.isEmpty && channel.utf8.count <= maximumChannelBytes
    }

    /// The command with its arguments checked, or why they are invalid.
    public var parsedCommand: Result<NotifyCommand, NotifyRequestError> {
        switch command {
        case "RELOAD":
            return .success(.reload)
        case "WORKERS_STATUS":
            return .success(.workersStatus(workersStatusScope))
        case "FORCE_SNAPSHOT":
            guard arguments.count == 1 else {
                return .failure(
                    NotifyRequestError(
                        "FORCE_SNAPSHOT takes one argument, a server id, but got \(arguments.count)"))
            }
            return Self.serverID(arguments[0]).map(NotifyCommand.forceSnapshot(srvid:))
        case "REFRESH_DB_CAT":
            guard arguments.count >= 2 else {
                return .failure(
                    NotifyRequestError(
                        "REFRESH_DB_CAT takes a server id, a number of databases and that many database names"))
            }
            let srvid: Int
            switch Self.serverID(arguments[0]) {
            case .success(let value): srvid = value
            case .failure(let error): return .failure(error)
            }
            guard let count = Int(arguments[1]) else {
                return .failure(NotifyRequestError("invalid number of databases \"\(arguments[1])\""))
            }
            let dbnames = Array(arguments.dropFirst(2))
            guard count == dbnames.count else {
                return .failure(
                    NotifyRequestError(
                        "REFRESH_DB_CAT announced \(count) databases but named \(dbnames.count)"))
            }
            return .success(.refreshCatalogs(srvid: srvid, dbnames: dbnames))
        default:
            return .success(.unknown)
        }
    }

    /// Like the reference: only the first argument counts, and only when it
    /// is all digits; anything else asks for every worker.
    private var workersStatusScope: NotifyCommand.WorkersStatusScope {
        guard let first = arguments.first, !first.isEmpty,
            first.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return .allServers }
        // Digits too many for an Int cannot be the id of any server.
        return Int(first).map(NotifyCommand.WorkersStatusScope.server) ?? .noServer
    }

    private static func serverID(_ word: String) -> Result<Int, NotifyRequestError> {
        guard let srvid = Int(word) else {
            return .failure(NotifyRequestError("invalid server id \"\(word)\""))
        }
        return .success(srvid)
    }
}
