import CLibPQ
import Glibc

extension PostgresConnection {
    /// Runs one statement with text parameters (`$1`, `$2`…; nil is NULL)
    /// through `PQexecParams`, so values are never spliced into SQL.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> QueryResult {
        let handle = try requireHandle()
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        let result = pointers.withUnsafeBufferPointer { buffer in
            PQexecParams(handle, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Parses and plans `sql` once as the named statement `name`, for
    /// `executePrepared`: a statement run on every request then costs the
    /// server its execution only.
    public func prepare(_ name: String, _ sql: String) throws(PostgresError) {
        let handle = try requireHandle()
        _ = try consume(PQprepare(handle, name, sql, 0, nil))
    }

    /// Runs the statement `prepare` named `name` with text parameters.
    @discardableResult
    public func executePrepared(_ name: String, _ parameters: [String?]) throws(PostgresError) -> QueryResult {
        let handle = try requireHandle()
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        let result = pointers.withUnsafeBufferPointer { buffer in
            PQexecPrepared(handle, name, Int32(parameters.count), buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs one or several statements without parameters (`PQexec`): for
    /// `SET`, `SAVEPOINT` and the like, and for SQL the repository itself
    /// provides (`query_cleanup`).
    @discardableResult
    public func executeSimple(_ sql: String) throws(PostgresError) -> QueryResult {
        let handle = try requireHandle()
        return try consume(PQexec(handle, sql))
    }

    /// Turns a PGresult into a `QueryResult`, or into the error it carries.
    /// Takes ownership of `result`.
    func consume(_ result: OpaquePointer?) throws(PostgresError) -> QueryResult {
        mayHoldBufferedNotifications = true
        guard let result else { throw connectionError() }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return QueryResult(owning: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            PQclear(result)
            // Leave no COPY half-open: end it so the connection stays usable.
            abandonCopy()
            throw PostgresError(kind: .unexpectedResult, message: "statement started a COPY; use the copy API")
        default:
            let error = makeError(from: result)
            PQclear(result)
            throw error
        }
    }

    /// The error a failed PGresult carries, classified as lost connection or
    /// failed statement.
    func makeError(from result: OpaquePointer) -> PostgresError {
        var message = fieldString(result, CLIBPQ_DIAG_MESSAGE_PRIMARY)
        if message == nil, let raw = PQresultErrorMessage(result) {
            message = String(cString: raw).trimmingTrailingWhitespace()
        }
        if message?.isEmpty ?? true { message = lastErrorMessage }
        let sqlState = fieldString(result, CLIBPQ_DIAG_SQLSTATE)
        let lost =
            !isHealthy
            || sqlState.map { $0.hasPrefix("08") || $0 == "57P01" || $0 == "57P02" || $0 == "57P03" } ?? false
        return PostgresError(
            kind: lost ? .connectionLost : .statementFailed,
            sqlState: sqlState,
            message: message ?? "unknown error",
            detail: fieldString(result, CLIBPQ_DIAG_MESSAGE_DETAIL),
            hint: fieldString(result, CLIBPQ_DIAG_MESSAGE_HINT))
    }

    /// Ends whatever COPY is in progress and discards the results, so that
    /// the connection can take the next statement.
    func abandonCopy() {
        guard let handle else { return }
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_COPY_IN {
                _ = PQputCopyEnd(handle, "copy abandoned by client")
            } else if status == PGRES_COPY_OUT {
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(handle, &buffer, 0) > 0 { PQfreemem(buffer) }
            }
        }
    }
}
