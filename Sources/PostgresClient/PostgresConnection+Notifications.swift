import CLibPQ
import Glibc

/// A NOTIFY that arrived on a channel this connection LISTENs to.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    /// The payload; bytes that are not valid UTF-8 are replaced, so hostile
    /// payloads still arrive as a String.
    public var payload: String
    /// The sending backend's pid, used to check who is asking.
    public var senderPID: Int32
}

extension PostgresConnection {
    /// Reads whatever the server sent without blocking (call when `socket`
    /// is readable) and returns the notifications now pending. Throws when
    /// the connection is broken.
    public func drainNotifications() throws(PostgresError) -> [PostgresNotification] {
        let handle = try requireHandle()
        mayHoldBufferedNotifications = false
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError(kind: .connectionLost, message: lastErrorMessage)
        }
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(handle) {
            let channel = String(cString: notify.pointee.relname)
            let payload: String
            if let extra = notify.pointee.extra {
                let length = strlen(extra)
                payload = extra.withMemoryRebound(to: UInt8.self, capacity: length) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                }
            } else {
                payload = ""
            }
            notifications.append(
                PostgresNotification(channel: channel, payload: payload, senderPID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        if PQstatus(handle) != CONNECTION_OK {
            throw PostgresError(kind: .connectionLost, message: lastErrorMessage)
        }
        return notifications
    }

    /// `LISTEN` on `channel`, quoted by libpq.
    public func listen(_ channel: String) throws(PostgresError) {
        try executeSimple("LISTEN \(try escapeIdentifier(channel))")
    }

    /// `pg_notify(channel, payload)`: both travel as parameters, so no channel
    /// name or payload can change the statement.
    public func notify(_ channel: String, payload: String) throws(PostgresError) {
        try execute("SELECT pg_catalog.pg_notify($1, $2)", [channel, payload])
    }
}
