import CLibPQ
import Glibc

/// One libpq connection, used from one thread at a time.
///
/// Blocking calls on purpose: each worker process runs its snapshot on a
/// thread of its own, and the only thing that must interrupt a statement from
/// outside is `PostgresCanceller`, which libpq makes safe to use from any
/// thread.
public final class PostgresConnection {
    /// The libpq handle; nil once closed.
    private(set) var handle: OpaquePointer?

    /// Whether a statement ran since notifications were last drained.
    /// While libpq waits for a result it reads whatever the server sends,
    /// notifications included, into its own buffer: the socket is then
    /// empty and poll/epoll does not wake up for them. Every statement sets
    /// this (in `consume`), `drainNotifications` clears it, so a listener
    /// drains before it sleeps whenever it is set.
    public internal(set) var mayHoldBufferedNotifications = true
    private var noticeBox: Unmanaged<NoticeHandlerBox>?

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        close()
    }

    /// Opens a connection. `applicationName` and `connectTimeout` are set
    /// only when the parameters do not already choose them.
    public static func connect(
        _ parameters: ConnectionParameters, applicationName: String? = nil, connectTimeout: Int? = nil
    ) throws(PostgresError) -> PostgresConnection {
        var pairs = parameters.keywords
        if let applicationName, !pairs.contains(where: { $0.0 == "application_name" }) {
            pairs.insert(("application_name", applicationName), at: 0)
        }
        if let connectTimeout, !pairs.contains(where: { $0.0 == "connect_timeout" }) {
            pairs.insert(("connect_timeout", String(connectTimeout)), at: 0)
        }
        // With expand_dbname, libpq reads the first dbname as a conninfo string
        // whose values are then overridden by later keywords; keep dbname first.
        if parameters.expandDatabaseName, let index = pairs.firstIndex(where: { $0.0 == "dbname" }) {
            let dbname = pairs.remove(at: index)
            pairs.insert(dbname, at: 0)
        }
        let handle = withCStringArrays(pairs.map(\.0), pairs.map(\.1)) { keys, values in
            PQconnectdbParams(keys, values, parameters.expandDatabaseName ? 1 : 0)
        }
        guard let handle else {
            throw PostgresError(kind: .clientError, message: "out of memory allocating a connection")
        }
        let connection = PostgresConnection(handle: handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = connection.lastErrorMessage
            connection.close()
            throw PostgresError(kind: .connectionFailed, message: message)
        }
        // libpq prints notices on stderr by default, which would break our log
        // format; they are dropped unless a handler is installed.
        connection.setNoticeHandler(nil)
        return connection
    }

    /// Closes the connection. Safe to call more than once.
    public func close() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
        noticeBox?.release()
        noticeBox = nil
    }

    public var isClosed: Bool { handle == nil }

    /// True while the connection is usable as far as libpq knows.
    public var isHealthy: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// `server_version_num` of the server, e.g. 150018.
    public var serverVersion: Int {
        guard let handle else { return 0 }
        return Int(PQserverVersion(handle))
    }

    /// The backend's process id, as `pg_backend_pid()` gives.
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// The socket to wait on for notifications, or -1 when closed.
    public var socket: Int32 {
        guard let handle else { return -1 }
        return PQsocket(handle)
    }

    public var transactionStatus: TransactionStatus {
        guard let handle else { return .unknown }
        return TransactionStatus(PQtransactionStatus(handle))
    }

    /// Delivers the server's notices (NOTICE, WARNING…) to `handler`, or drops
    /// them when `handler` is nil.
    public func setNoticeHandler(_ handler: ((PostgresNotice) -> Void)?) {
        guard let handle else { return }
        noticeBox?.release()
        noticeBox = nil
        let box = Unmanaged.passRetained(NoticeHandlerBox(handler: handler))
        noticeBox = box
        PQsetNoticeReceiver(
            handle,
            { context, result in
                guard let context, let result else { return }
                let box = Unmanaged<NoticeHandlerBox>.fromOpaque(context).takeUnretainedValue()
                guard let handler = box.handler else { return }
                handler(PostgresNotice(result: result))
            }, box.toOpaque())
    }

    /// libpq's last error message for this connection, trimmed.
    var lastErrorMessage: String {
        guard let handle, let cString = PQerrorMessage(handle) else { return "connection closed" }
        let text = String(cString: cString).trimmingTrailingWhitespace()
        return text.isEmpty ? "unknown libpq error" : text
    }

    /// The handle, or a `connectionLost` error once closed.
    func requireHandle() throws(PostgresError) -> OpaquePointer {
        guard let handle else {
            throw PostgresError(kind: .connectionLost, message: "connection is closed")
        }
        return handle
    }

    /// An error from the connection's state, when no PGresult carries one.
    func connectionError() -> PostgresError {
        let kind: PostgresError.Kind = isHealthy ? .statementFailed : .connectionLost
        return PostgresError(kind: kind, message: lastErrorMessage)
    }
}

/// A notice or warning the server sent while running a statement.
public struct PostgresNotice: Sendable {
    public var severity: String
    public var sqlState: String?
    public var message: String

    init(result: OpaquePointer) {
        severity = fieldString(result, CLIBPQ_DIAG_SEVERITY) ?? "NOTICE"
        sqlState = fieldString(result, CLIBPQ_DIAG_SQLSTATE)
        message = fieldString(result, CLIBPQ_DIAG_MESSAGE_PRIMARY) ?? ""
    }
}

final class NoticeHandlerBox {
    let handler: ((PostgresNotice) -> Void)?
    init(handler: ((PostgresNotice) -> Void)?) { self.handler = handler }
}

func fieldString(_ result: OpaquePointer, _ field: Int32) -> String? {
    guard let value = PQresultErrorField(result, field) else { return nil }
    return String(cString: value)
}

/// Runs `body` with NULL-terminated C string arrays for libpq's
/// keyword/value APIs; the strings live until `body` returns.
func withCStringArrays<R>(
    _ keys: [String], _ values: [String],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
) -> R {
    let keyCopies = keys.map { strdup($0) }
    let valueCopies = values.map { strdup($0) }
    defer {
        keyCopies.forEach { free($0) }
        valueCopies.forEach { free($0) }
    }
    let keyPointers = keyCopies.map { UnsafePointer($0) } + [nil]
    let valuePointers = valueCopies.map { UnsafePointer($0) } + [nil]
    return keyPointers.withUnsafeBufferPointer { k in
        valuePointers.withUnsafeBufferPointer { v in
            body(k.baseAddress!, v.baseAddress!)
        }
    }
}
