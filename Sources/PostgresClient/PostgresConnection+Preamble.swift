import CLibPQ
import Glibc

/// A statement sent ahead of another in the same round trip.
public struct PreambleStatement: Sendable, Equatable {
    /// Exactly one SQL statement.
    public var sql: String
    /// Text parameters (`$1`…; nil is NULL); nil sends the statement as
    /// text alone, which the simple query protocol can carry.
    public var parameters: [String?]?

    public init(_ sql: String, parameters: [String?]? = nil) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// Which part of a round trip of several statements failed: one of the
/// statements sent ahead (its position in the preamble), or the caller's
/// own statement. The statements after a failed one did not run.
public enum PreambleError: Error, Sendable {
    case preamble(index: Int, PostgresError)
    case statement(PostgresError)

    public var underlying: PostgresError {
        switch self {
        case .preamble(_, let error), .statement(let error): error
        }
    }
}

/// Statements whose answers need no decision in between go out together:
/// on loopback most of a client's CPU is the send, the wake-up and the
/// receive of each round trip, not the statement.
///
/// Text alone travels in one simple-query message (every statement then
/// answers in order; the first error ends the message), statements with
/// parameters in libpq's pipeline mode (the extended protocol, which every
/// server version libpq supports accepts pipelined). Either way the server
/// runs them exactly as if they came one at a time in the same
/// transaction. A preamble statement must be exactly one statement, so that
/// the answers can be counted; the caller's own may be several (text) or a
/// COPY (`copy(from:…)`).
extension PostgresConnection {
    /// Runs `preamble`, then `sql` (statements without parameters: several
    /// when the preamble has none with parameters, else one), in one round
    /// trip; the result is the last statement's.
    @discardableResult
    public func executeSimple(_ sql: String, after preamble: [PreambleStatement]) throws(PreambleError)
        -> QueryResult
    {
        if preamble.isEmpty {
            do {
                return try executeSimple(sql)
            } catch {
                throw .statement(error)
            }
        }
        if preamble.contains(where: { $0.parameters != nil }) {
            return try pipeline(preamble + [PreambleStatement(sql, parameters: [])])
        }
        let handle: OpaquePointer
        do {
            handle = try requireHandle()
        } catch {
            throw .statement(error)
        }
        let text = (preamble.map(\.sql) + [sql]).joined(separator: "; ")
        guard PQsendQuery(handle, text) == 1 else { throw .preamble(index: 0, connectionError()) }
        mayHoldBufferedNotifications = true
        var index = 0
        var last: OpaquePointer?
        var failure: PreambleError?
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            switch status {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                if let last { PQclear(last) }
                last = result
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                PQclear(result)
                abandonCopy()
                if failure == nil {
                    let error = PostgresError(
                        kind: .unexpectedResult, message: "statement started a COPY; use the copy API")
                    failure = index < preamble.count ? .preamble(index: index, error) : .statement(error)
                }
            default:
                let error = makeError(from: result)
                PQclear(result)
                if failure == nil {
                    failure = index < preamble.count ? .preamble(index: index, error) : .statement(error)
                }
            }
            index += 1
            if !isHealthy { break }
        }
        if failure == nil, !isHealthy || last == nil {
            let error = connectionError()
            failure = index < preamble.count ? .preamble(index: index, error) : .statement(error)
        }
        guard failure == nil, let last else {
            if let last { PQclear(last) }
            throw failure ?? .statement(connectionError())
        }
        return QueryResult(owning: last)
    }

    /// Runs `preamble`, then `sql` with its text parameters, in one round
    /// trip (pipeline mode); the result is `sql`'s.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?], after preamble: [PreambleStatement])
        throws(PreambleError) -> QueryResult
    {
        if preamble.isEmpty {
            do {
                return try execute(sql, parameters)
            } catch {
                throw .statement(error)
            }
        }
        return try pipeline(preamble + [PreambleStatement(sql, parameters: parameters)])
    }

    /// Sends every statement with the extended protocol, then one Sync, and
    /// reads their answers: a statement after a failed one is skipped by
    /// the server (`PGRES_PIPELINE_ABORTED`). The last statement is the
    /// caller's own.
    private func pipeline(_ statements: [PreambleStatement]) throws(PreambleError) -> QueryResult {
        let last = statements.count - 1
        func failure(_ index: Int, _ error: PostgresError) -> PreambleError {
            index < last ? .preamble(index: index, error) : .statement(error)
        }
        let handle: OpaquePointer
        do {
            handle = try requireHandle()
        } catch {
            throw .statement(error)
        }
        guard PQenterPipelineMode(handle) == 1 else { throw failure(0, connectionError()) }
        defer { _ = PQexitPipelineMode(handle) }
        mayHoldBufferedNotifications = true
        for (index, statement) in statements.enumerated() {
            let parameters = statement.parameters ?? []
            let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
            defer { copies.forEach { free($0) } }
            let pointers = copies.map { UnsafePointer($0) }
            let sent = pointers.withUnsafeBufferPointer { buffer in
                PQsendQueryParams(handle, statement.sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
            }
            guard sent == 1 else {
                let error = connectionError()
                discardPipeline(handle)
                throw failure(index, error)
            }
        }
        guard PQpipelineSync(handle) == 1 else {
            let error = connectionError()
            discardPipeline(handle)
            throw failure(0, error)
        }
        var firstFailure: PreambleError?
        var answer: OpaquePointer?
        for index in statements.indices {
            // One statement's results, ended by a NULL.
            while let result = PQgetResult(handle) {
                switch PQresultStatus(result) {
                case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                    if index == last, answer == nil { answer = result } else { PQclear(result) }
                case PGRES_PIPELINE_ABORTED:
                    PQclear(result)
                case PGRES_PIPELINE_SYNC:
                    // Only after a lost connection ended the answers early.
                    PQclear(result)
                default:
                    let error = makeError(from: result)
                    PQclear(result)
                    if firstFailure == nil { firstFailure = failure(index, error) }
                }
                if !isHealthy { break }
            }
            if !isHealthy {
                if firstFailure == nil { firstFailure = failure(index, connectionError()) }
                break
            }
        }
        if isHealthy { readSync(handle) }
        if let firstFailure {
            if let answer { PQclear(answer) }
            throw firstFailure
        }
        guard let answer else { throw failure(last, connectionError()) }
        return QueryResult(owning: answer)
    }

    /// Reads the Sync's answer that ends a pipeline.
    private func readSync(_ handle: OpaquePointer) {
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC || !isHealthy { return }
        }
    }

    /// After a send failed: whatever was queued is given up.
    private func discardPipeline(_ handle: OpaquePointer) {
        guard isHealthy, PQpipelineSync(handle) == 1 else { return }
        var nulls = 0
        while nulls < 2 {
            guard let result = PQgetResult(handle) else {
                nulls += 1
                continue
            }
            nulls = 0
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC || !isHealthy { return }
        }
    }
}
