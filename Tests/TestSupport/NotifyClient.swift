import FoundationEssentials
import Glibc
import PostgresClient

/// A client of the collector's NOTIFY protocol, asking the way powa-web
/// does: LISTEN on a channel of its own, NOTIFY `powa_collector` with
/// `COMMAND CHANNEL ARGS…`, and take the first answer on that channel that
/// starts with the command, waiting a few seconds at most.
public final class NotifyClient: @unchecked Sendable {
    public let connection: PostgresConnection
    /// Notifications received but not consumed yet, oldest first.
    private var received: [PostgresNotification] = []
    private var listening: Set<String> = []

    public init(cluster: TestCluster, database: String, user: String? = nil) throws {
        connection = try PostgresConnection.connect(
            cluster.parameters(database: database, user: user), applicationName: "powa-collector tests (notify)")
    }

    deinit { connection.close() }

    /// A fresh channel name, like powa-web's random ones.
    public static func randomChannel() -> String {
        "r_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    public func listen(_ channel: String) throws {
        guard !listening.contains(channel) else { return }
        try connection.listen(channel)
        listening.insert(channel)
    }

    /// Sends a raw payload on `powa_collector`.
    public func send(_ payload: String) throws {
        try connection.notify("powa_collector", payload: payload)
    }

    /// `COMMAND CHANNEL ARGS…` on a new channel; returns the answer's
    /// payload, or nil when none came within `timeout` seconds.
    public func request(_ command: String, _ arguments: [String] = [], timeout: Double = 3) async throws -> String? {
        let channel = Self.randomChannel()
        try listen(channel)
        try send(([command, channel] + arguments).joined(separator: " "))
        return try await answer(on: channel, command: command, timeout: timeout)
    }

    /// The first notification on `channel` whose payload starts with
    /// `command` and a space, waiting up to `timeout` seconds.
    public func answer(on channel: String, command: String, timeout: Double = 3) async throws -> String? {
        let deadline = Monotonic.now() + timeout
        while true {
            if let index = received.firstIndex(where: { $0.channel == channel && $0.payload.hasPrefix(command + " ") })
            {
                return received.remove(at: index).payload
            }
            let left = deadline - Monotonic.now()
            if left <= 0 {
                // A task that waited for a runner thread past the deadline
                // still reads what arrived in time.
                received += try connection.drainNotifications()
                if let index = received.firstIndex(where: {
                    $0.channel == channel && $0.payload.hasPrefix(command + " ")
                }) {
                    return received.remove(at: index).payload
                }
                return nil
            }
            try await receive(waitingAtMost: min(left, 0.02))
        }
    }

    /// Every notification on `channel` received within `timeout` seconds.
    public func drain(channel: String, timeout: Double) async throws -> [String] {
        let deadline = Monotonic.now() + timeout
        while Monotonic.now() < deadline { try await receive(waitingAtMost: 0.02) }
        // A task that waited for a runner thread past the deadline still
        // reads what arrived in time.
        received += try connection.drainNotifications()
        let matching = received.filter { $0.channel == channel }.map(\.payload)
        received.removeAll { $0.channel == channel }
        return matching
    }

    /// Waits at most `seconds` for the socket, then reads what arrived. The
    /// wait is short and followed by a yield, so that parallel tests share
    /// the few threads of the test runner.
    private func receive(waitingAtMost seconds: Double) async throws {
        var entry = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, Int32(max(1, seconds * 1000)))
        received += try connection.drainNotifications()
        await Task.yield()
    }

    /// `WORKERS_STATUS` answered, decoded: server id (as a string) → status.
    public func workersStatus(_ srvid: Int? = nil, timeout: Double = 3) async throws -> [String: String]? {
        guard let payload = try await request("WORKERS_STATUS", srvid.map { [String($0)] } ?? [], timeout: timeout)
        else { return nil }
        return Self.decodeStatus(payload)
    }

    /// The JSON of `WORKERS_STATUS OK {…}`, nil for any other answer.
    public static func decodeStatus(_ payload: String) -> [String: String]? {
        let prefix = "WORKERS_STATUS OK "
        guard payload.hasPrefix(prefix) else { return nil }
        return try? JSONDecoder().decode([String: String].self, from: Data(payload.dropFirst(prefix.count).utf8))
    }
}
