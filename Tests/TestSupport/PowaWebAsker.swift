import Glibc
import PostgresClient

/// Asks the collector the way powa-web does, to test promptness: every
/// request on a fresh channel `r<N>` (LISTEN, NOTIFY `powa_collector`,
/// wait, UNLISTEN), and an answer that comes after powa-web's limit counts
/// as none. A late answer cannot be taken for the next request's: its
/// channel is no longer listened to.
///
/// The UNLISTEN of the previous channel, the LISTEN and the NOTIFY go in one
/// simple query (one round trip, one transaction: LISTEN takes effect before
/// the NOTIFY is delivered), so that the client costs little beside the
/// collector.
public final class PowaWebAsker: @unchecked Sendable {
    /// powa-web's wait for the server list's `WORKERS_STATUS`.
    public static let serverListTimeout = 1.0

    public let connection: PostgresConnection
    private var nextChannelNumber = 1
    private var listening: String?
    /// Notifications read but not looked at yet, by channel.
    private var received: [String: [String]] = [:]

    public init(cluster: TestCluster, database: String, user: String? = nil) throws {
        connection = try PostgresConnection.connect(
            cluster.parameters(database: database, user: user), applicationName: "powa-collector tests (powa-web)")
    }

    deinit { connection.close() }

    /// What came back for one request.
    public struct Outcome: Sendable {
        public var channel: String
        /// The answer's payload, nil when none came within the limit.
        public var answer: String?
        /// Seconds from the NOTIFY to the answer (or to giving up).
        public var seconds: Double
    }

    /// Sends `COMMAND r<N> ARGS…` and waits `timeout` seconds at most for
    /// the answer on `r<N>`.
    public func ask(_ command: String, _ arguments: [String] = [], timeout: Double = serverListTimeout) async throws
        -> Outcome
    {
        let channel = try send(command, arguments)
        let start = Monotonic.now()
        let deadline = start + timeout
        while true {
            if let answer = received[channel]?.first {
                received[channel] = nil
                return Outcome(channel: channel, answer: answer, seconds: Monotonic.now() - start)
            }
            let left = deadline - Monotonic.now()
            if left <= 0 {
                // The test's task may have waited for a thread of the runner
                // past the deadline: what reached the socket by now was in
                // time, so read it once more before giving up.
                received.merge(try readAvailable(), uniquingKeysWith: +)
                if let answer = received[channel]?.first {
                    received[channel] = nil
                    return Outcome(channel: channel, answer: answer, seconds: timeout)
                }
                return Outcome(channel: channel, answer: nil, seconds: timeout)
            }
            try await receive(waitingAtMost: left)
        }
    }

    /// Sends `COMMAND r<N> ARGS…` on a fresh channel, listened to from now
    /// on, and returns the channel. For bursts: the previous channel is kept.
    public func send(_ command: String, _ arguments: [String] = [], keepPreviousChannel: Bool = false) throws -> String
    {
        let channel = "r\(nextChannelNumber)"
        nextChannelNumber += 1
        let payload = ([command, channel] + arguments).joined(separator: " ")
        var sql = ""
        if let previous = listening, !keepPreviousChannel { sql += "UNLISTEN \(previous); " }
        sql += "LISTEN \(channel); NOTIFY powa_collector, \(try connection.escapeLiteral(payload))"
        try connection.executeSimple(sql)
        listening = channel
        return channel
    }

    /// Every answer received on `channel` so far (reading what waits).
    public func answers(on channel: String) throws -> [String] {
        received.merge(try readAvailable(), uniquingKeysWith: +)
        return received[channel] ?? []
    }

    /// Reads what arrived; when nothing did, sleeps at most `seconds` (and
    /// 1 ms at most) first. It never blocks a thread of the test runner,
    /// whose few threads the parallel tests share: a series of thousands of
    /// requests must not slow the other tests down.
    public func receive(waitingAtMost seconds: Double) async throws {
        var entry = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
        if poll(&entry, 1, 0) == 0 {
            try? await Task.sleep(nanoseconds: UInt64(min(seconds, 0.001) * 1e9))
        }
        received.merge(try readAvailable(), uniquingKeysWith: +)
    }

    /// Forgets every channel's answers read so far.
    public func forgetReceived() { received = [:] }

    /// Every answer read so far, by channel.
    public var receivedByChannel: [String: [String]] { received }

    private func readAvailable() throws -> [String: [String]] {
        var byChannel: [String: [String]] = [:]
        for notification in try connection.drainNotifications() {
            byChannel[notification.channel, default: []].append(notification.payload)
        }
        return byChannel
    }
}

/// What a series of requests got, summarized for a failure message.
public struct PromptnessTally: Sendable, CustomStringConvertible {
    public var asked = 0
    public var answeredInTime = 0
    /// Requests with no answer (or a wrong one) within the limit: channel
    /// and what came.
    public var failures: [(channel: String, answer: String?)] = []
    public var slowest = 0.0

    public init() {}

    public mutating func record(_ outcome: PowaWebAsker.Outcome, expected: (String) -> Bool) {
        asked += 1
        slowest = max(slowest, outcome.seconds)
        if let answer = outcome.answer, expected(answer) {
            answeredInTime += 1
        } else if failures.count < 20 {
            failures.append((outcome.channel, outcome.answer))
        }
    }

    public var description: String {
        "\(answeredInTime) of \(asked) answered in time, slowest \(slowest) s; first failures: "
            + failures.map { "\($0.channel): \($0.answer.map { String($0.prefix(80)) } ?? "no answer")" }
            .joined(separator: "; ")
    }
}
