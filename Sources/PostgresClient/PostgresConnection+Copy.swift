import CLibPQ
import Glibc

/// What a streamed COPY moved.
public struct CopyOutcome: Sendable, Equatable {
    /// Rows the target accepted (from its `COPY n` tag).
    public var rows: Int
    /// Bytes of COPY text that went through.
    public var bytes: Int
}

/// Why a streamed COPY failed, and on which side: a failed source costs the
/// datasource, a failed target too, but only a broken connection costs the
/// whole snapshot.
public enum CopyError: Error, Sendable, CustomStringConvertible {
    /// The source failed, before or during the COPY.
    case source(PostgresError)
    /// The target refused its COPY statement; the source statement was
    /// never sent (so whatever it would have done first did not happen).
    case targetRefused(PostgresError)
    /// The target failed during or at the end of the COPY.
    case target(PostgresError)
    /// A statement sent ahead of either side's COPY (`sourcePreamble`,
    /// `targetPreamble`) failed; the COPY statements after it did not run
    /// on that side, and a target COPY already started was ended with an
    /// error.
    case preamble(PostgresError)

    public var underlying: PostgresError {
        switch self {
        case .source(let error), .targetRefused(let error), .target(let error), .preamble(let error): error
        }
    }

    public var description: String {
        switch self {
        case .source(let error): "reading the source: \(error)"
        case .targetRefused(let error), .target(let error): "writing the target: \(error)"
        case .preamble(let error): "a statement sent ahead of the COPY: \(error)"
        }
    }
}

extension PostgresConnection {
    /// Bytes of COPY data gathered before they are handed to the target: big
    /// enough that per-message costs vanish, small enough to stay in cache.
    static let copyChunkSize = 64 * 1024

    /// Streams `COPY … TO STDOUT` from `source` into `COPY … FROM STDIN` on
    /// this connection, one chunk at a time: memory does not depend on the
    /// number of rows.
    ///
    /// The target COPY starts first, so that a missing target table costs no
    /// work on the source. When either side fails, the other side's COPY is
    /// ended (the target's with an error, so nothing of it is kept) and both
    /// connections are left ready for the next statement; the caller rolls
    /// back to its savepoints.
    ///
    /// Either statement may be preceded by others in the same string
    /// (`SAVEPOINT s; COPY …`): they run in the same round trip, and a
    /// failure among them is reported like a failure of the COPY. The
    /// preambles, one statement each, go in the same round trip too, ahead
    /// of their side's string, but their failure is told apart
    /// (`CopyError.preamble`): they belong to what came before.
    ///
    /// Several copies can share one message on either side, which saves a
    /// round trip each: the first sends the next copies' statements after
    /// its own (`CopyMessage.following`), and each later one only reads its
    /// answers (`CopyMessage.sent`). A copy whose message goes on
    /// (`CopyMessage.continues`) reads only its own COPY's answer at its
    /// end; the servers then run the next copy's statements while this one
    /// ends. A failure ends both messages: the server that failed skips the
    /// rest of its own, and the other one's is read to its end and
    /// discarded (`abandonPendingCommand`), so that both connections are
    /// left ready for a new statement.
    @discardableResult
    public func copy(
        from source: PostgresConnection, sourceSQL: String, targetSQL: String,
        sourcePreamble: [String] = [], targetPreamble: [String] = [],
        source sourceMessage: CopyMessage = .alone, target targetMessage: CopyMessage = .alone
    ) throws(CopyError) -> CopyOutcome {
        do {
            return try relay(
                from: source, sourceSQL: sourceSQL, targetSQL: targetSQL, sourcePreamble: sourcePreamble,
                targetPreamble: targetPreamble, sourceMessage: sourceMessage, targetMessage: targetMessage)
        } catch {
            source.abandonPendingCommand()
            abandonPendingCommand()
            throw error
        }
    }

    private func relay(
        from source: PostgresConnection, sourceSQL: String, targetSQL: String, sourcePreamble: [String],
        targetPreamble: [String], sourceMessage: CopyMessage, targetMessage: CopyMessage
    ) throws(CopyError) -> CopyOutcome {
        let target: OpaquePointer
        let origin: OpaquePointer
        do {
            target = try requireHandle()
        } catch {
            throw .targetRefused(error)
        }
        do {
            origin = try source.requireHandle()
        } catch {
            throw .source(error)
        }

        do {
            try startCopy(
                target, targetMessage.text(targetSQL), after: targetPreamble, expecting: PGRES_COPY_IN)
        } catch {
            switch error {
            case .preamble(_, let failure): throw .preamble(failure)
            case .statement(let failure): throw .targetRefused(failure)
            }
        }
        do {
            try source.startCopy(
                origin, sourceMessage.text(sourceSQL), after: sourcePreamble, expecting: PGRES_COPY_OUT)
        } catch {
            _ = PQputCopyEnd(target, "source query failed")
            drainResults(target)
            switch error {
            case .preamble(_, let failure): throw .preamble(failure)
            case .statement(let failure): throw .source(failure)
            }
        }

        // Rows are gathered into chunks before they go to the target: one
        // CopyData message per chunk instead of one per row saves most of
        // libpq's per-row work on the way out (and the server's on the way
        // in). The hot loop tests a Bool, not the Optional error, which
        // Swift would copy through value witnesses on every row.
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: Self.copyChunkSize, alignment: 16)
        defer { chunk.deallocate() }
        var pending = 0
        var bytes = 0
        var targetWritable = true
        var targetFailure: PostgresError?
        var buffer: UnsafeMutablePointer<CChar>?
        var reader = CopySourceReader(origin)
        while true {
            let length = reader.next(&buffer)
            guard length > 0, let row = buffer else { break }
            let count = Int(length)
            if targetWritable {
                if pending + count > Self.copyChunkSize, pending > 0 {
                    targetWritable =
                        PQputCopyData(target, chunk.assumingMemoryBound(to: CChar.self), Int32(pending)) == 1
                    pending = 0
                }
                if targetWritable {
                    if count >= Self.copyChunkSize {
                        targetWritable = PQputCopyData(target, row, length) == 1
                    } else {
                        (chunk + pending).copyMemory(from: row, byteCount: count)
                        pending += count
                    }
                }
                if !targetWritable { targetFailure = connectionError() }
            }
            bytes += count
            PQfreemem(row)
            buffer = nil
        }
        if targetWritable, pending > 0,
            PQputCopyData(target, chunk.assumingMemoryBound(to: CChar.self), Int32(pending)) != 1
        {
            targetFailure = connectionError()
        }
        // -1: the COPY finished; its final status comes from PQgetResult.
        // -2: libpq failed; PQgetResult reports why as well.
        let sourceFailure =
            sourceMessage.continues ? source.finishCopyResult(origin) : source.finishResults(origin)

        if let sourceFailure {
            _ = PQputCopyEnd(target, "source failed")
            drainResults(target)
            throw .source(sourceFailure)
        }
        if let targetFailure {
            drainResults(target)
            throw .target(targetFailure)
        }
        guard PQputCopyEnd(target, nil) == 1 else {
            let error = connectionError()
            drainResults(target)
            throw .target(error)
        }
        var rows = 0
        let failure =
            targetMessage.continues ? finishCopyResult(target, rows: &rows) : finishResults(target, rows: &rows)
        if let failure { throw .target(failure) }
        return CopyOutcome(rows: rows, bytes: bytes)
    }

    /// Ends a command left half-read (a message of chained copies whose
    /// next COPY will not run): a COPY it started is ended with an error
    /// and its answers are discarded, so that the connection takes the next
    /// statement. Does nothing on an idle connection.
    public func abandonPendingCommand() {
        if transactionStatus == .active { abandonCopy() }
    }

    /// Sends `preamble` then a COPY statement (possibly after others) in
    /// one message, and checks that the server entered the expected COPY
    /// mode; a failure is the preamble's while fewer answers than its
    /// statements came.
    ///
    /// With `sql` nil, the message was sent earlier and only its next
    /// answers are read, `preamble`'s first.
    fileprivate func startCopy(
        _ handle: OpaquePointer, _ sql: String?, after preamble: [String], expecting: ExecStatusType
    ) throws(PreambleError) {
        var answered = 0
        func failure(_ error: PostgresError) -> PreambleError {
            answered < preamble.count ? .preamble(index: answered, error) : .statement(error)
        }
        if let sql {
            let text = (preamble + [sql]).joined(separator: "; ")
            guard PQsendQuery(handle, text) == 1 else { throw failure(connectionError()) }
            mayHoldBufferedNotifications = true
        }
        while true {
            guard let result = PQgetResult(handle) else {
                throw failure(
                    isHealthy
                        ? PostgresError(kind: .unexpectedResult, message: "statement is not a COPY")
                        : connectionError())
            }
            let status = PQresultStatus(result)
            if status == expecting {
                PQclear(result)
                return
            }
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
                // What runs ahead of the COPY in the same message.
                PQclear(result)
                answered += 1
                continue
            }
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT {
                PQclear(result)
                abandonCopy()
                throw failure(
                    PostgresError(kind: .unexpectedResult, message: "statement is a COPY in the other direction"))
            }
            let error = makeError(from: result)
            PQclear(result)
            // The message's last answer: nothing after an error runs.
            drainResults(handle)
            throw failure(error)
        }
    }

    /// Collects the results that end a statement; returns the first error.
    fileprivate func finishResults(_ handle: OpaquePointer) -> PostgresError? {
        var rows = 0
        return finishResults(handle, rows: &rows)
    }

    fileprivate func finishResults(_ handle: OpaquePointer, rows: inout Int) -> PostgresError? {
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if status == PGRES_COPY_IN {
                // Only reachable after a failed PQputCopyEnd: give up the COPY.
                _ = PQputCopyEnd(handle, "copy abandoned by client")
            } else if status == PGRES_COPY_OUT {
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(handle, &buffer, 0) > 0 { PQfreemem(buffer) }
            } else if failure == nil {
                failure = makeError(from: result)
            }
            PQclear(result)
            if !isHealthy, failure == nil { failure = connectionError() }
            if !isHealthy { break }
        }
        return failure
    }

    /// Reads the one answer of a COPY whose message goes on; after a
    /// failure the server skips the rest of the message, which is then
    /// read to its end.
    fileprivate func finishCopyResult(_ handle: OpaquePointer) -> PostgresError? {
        var rows = 0
        return finishCopyResult(handle, rows: &rows)
    }

    fileprivate func finishCopyResult(_ handle: OpaquePointer, rows: inout Int) -> PostgresError? {
        guard let result = PQgetResult(handle) else {
            return isHealthy
                ? PostgresError(kind: .unexpectedResult, message: "the message ended with its COPY") : connectionError()
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK else {
            let failure: PostgresError
            if status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR {
                failure = makeError(from: result)
            } else {
                // Only after a failed PQputCopyEnd: still in COPY.
                if status == PGRES_COPY_IN { _ = PQputCopyEnd(handle, "copy abandoned by client") }
                failure =
                    isHealthy
                    ? PostgresError(kind: .unexpectedResult, message: "a COPY did not end") : connectionError()
            }
            drainResults(handle)
            return failure
        }
        rows = Int(String(cString: PQcmdTuples(result))) ?? 0
        return nil
    }

    fileprivate func drainResults(_ handle: OpaquePointer) {
        _ = finishResults(handle)
    }
}

/// How one side's COPY statement of a copy travels: alone in its message,
/// or with other copies' (see `PostgresConnection.copy`).
public struct CopyMessage: Sendable, Equatable {
    /// Statements sent after this side's in the same message: the next
    /// copies' (each one's savepoint and COPY, with what must run between
    /// them).
    public var following: [String]
    /// This side's statement, and its preamble, went with an earlier copy's
    /// message: only their answers are read.
    public var sent: Bool
    /// The message goes on after this copy's COPY.
    public var continues: Bool

    public init(following: [String] = [], sent: Bool = false, continues: Bool = false) {
        self.following = following
        self.sent = sent
        self.continues = continues
    }

    /// One copy, one message.
    public static let alone = CopyMessage()

    /// The message to send for `sql` (with what follows it), or nil when it
    /// was sent earlier.
    func text(_ sql: String) -> String? {
        sent ? nil : ([sql] + following).joined(separator: "; ")
    }
}

/// Reads a COPY's rows from the source, with fewer system calls and
/// wake-ups than libpq's blocking mode.
///
/// libpq's blocking mode polls before every read and wakes up for every
/// 8 kB the backend sends; each wake-up is a context switch, most of a
/// snapshot's CPU. This reader reads before polling (the next buffer is
/// often there already), and paces its waits with `CopyReadPacing`. The
/// socket's SO_RCVLOWAT is raised only for the reader's own poll and put
/// back right after: libpq's waits have no timeout, and one on a raised
/// mark would hang for an answer smaller than the mark. Over TLS, where
/// the socket does not show what OpenSSL already decrypted, reading is
/// left to libpq.
private struct CopySourceReader {
    private let handle: OpaquePointer
    private let socket: Int32
    private let ownsReading: Bool
    private var pacing = CopyReadPacing()

    init(_ handle: OpaquePointer) {
        self.handle = handle
        socket = PQsocket(handle)
        ownsReading = socket >= 0 && PQsslInUse(handle) == 0
    }

    /// PQgetCopyData's answer: a row's length, -1 at the end, -2 on error.
    mutating func next(_ buffer: inout UnsafeMutablePointer<CChar>?) -> Int32 {
        guard ownsReading else { return PQgetCopyData(handle, &buffer, 0) }
        var mayHaveData = true
        while true {
            let length = PQgetCopyData(handle, &buffer, 1)
            if length > 0 { pacing.read(Int(length)) }
            if length != 0 { return length }
            if mayHaveData {
                mayHaveData = false
            } else {
                let socket = socket
                wait(pacing.nextWait(receiveBufferBytes: Self.receiveBuffer(socket)))
            }
            // Reads what arrived without blocking. On a broken connection
            // PQgetCopyData then returns -2 and PQgetResult says why.
            if PQconsumeInput(handle) == 0 { return PQgetCopyData(handle, &buffer, 1) }
        }
    }

    private func wait(_ wait: CopyReadPacing.Wait) {
        let raised = wait.lowWatermark > 1 && setLowWatermark(wait.lowWatermark)
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        // Unraised, the bounded wait would only spin: wait for any byte.
        let timeout = raised ? wait.timeoutMilliseconds : -1
        while Glibc.poll(&entry, 1, timeout) < 0, errno == EINTR {}
        if raised { _ = setLowWatermark(1) }
    }

    private static func receiveBuffer(_ socket: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(socket, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0 ? value : 0
    }

    private func setLowWatermark(_ bytes: Int32) -> Bool {
        var value = bytes
        return setsockopt(socket, SOL_SOCKET, SO_RCVLOWAT, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }
}
