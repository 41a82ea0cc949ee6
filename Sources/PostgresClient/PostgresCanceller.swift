import CLibPQ

/// Cancels the statement in flight on one connection, from another thread.
///
/// libpq documents `PQcancel` on a `PGcancel` object as safe to call from any
/// thread (and from a signal handler), while the connection itself is busy
/// in a blocking call elsewhere. This type owns that object, which is why it
/// may be shared across threads.
public final class PostgresCanceller: @unchecked Sendable {
    private let cancel: OpaquePointer

    init?(connection: OpaquePointer) {
        guard let cancel = PQgetCancel(connection) else { return nil }
        self.cancel = cancel
    }

    deinit {
        PQfreeCancel(cancel)
    }

    /// Asks the server to cancel the current statement. Returns false with
    /// libpq's reason when the request could not be sent; a request that
    /// arrives when nothing runs has no effect.
    @discardableResult
    public func cancelCurrentStatement() -> (sent: Bool, error: String?) {
        var buffer = [CChar](repeating: 0, count: 256)
        let sent = PQcancel(cancel, &buffer, Int32(buffer.count)) == 1
        let error =
            sent ? nil : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (sent, error)
    }
}

extension PostgresConnection {
    /// A canceller for this connection, usable from another thread while this
    /// one is blocked in a statement.
    public func makeCanceller() throws(PostgresError) -> PostgresCanceller {
        let handle = try requireHandle()
        guard let canceller = PostgresCanceller(connection: handle) else {
            throw PostgresError(kind: .clientError, message: "could not create a cancel object")
        }
        return canceller
    }
}
