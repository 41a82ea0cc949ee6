import Glibc

/// Small wrappers over read/write/poll for pipes, retrying on EINTR.
public enum FileDescriptorIO {
    public enum ReadOutcome: Equatable {
        case bytes([UInt8])
        /// Nothing to read right now (non-blocking descriptor).
        case wouldBlock
        case endOfFile
    }

    public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw .last("fcntl") }
    }

    /// One read of at most `maximum` bytes.
    public static func read(_ fd: Int32, maximum: Int = 65536) throws(SystemError) -> ReadOutcome {
        while true {
            // Read straight into the array's storage: no zero-filling of
            // `maximum` bytes and no second copy, on a path the supervisor
            // takes for every line of every worker.
            var count = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: maximum) { storage, initialized in
                count = Glibc.read(fd, storage.baseAddress, maximum)
                initialized = max(count, 0)
            }
            if count > 0 { return .bytes(bytes) }
            if count == 0 { return .endOfFile }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            throw .last("read")
        }
    }

    /// Writes as much as the descriptor takes now; returns how many bytes
    /// went out (fewer than asked on a full non-blocking pipe).
    public static func write(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws(SystemError) -> Int {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if count > 0 {
                written += count
            } else if count < 0, errno == EINTR {
                continue
            } else if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                throw .last("write")
            }
        }
        return written
    }

    /// Writes everything, blocking as needed.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let count = try write(fd, bytes[offset...])
            if count == 0 {
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = Glibc.poll(&entry, 1, 1000)
            }
            offset += count
        }
    }

    /// The poll(2) timeout for a wait until a deadline `seconds` away, such
    /// that the wake-up is neither early nor late by more than about a
    /// millisecond; the caller polls again for what is left.
    ///
    /// Linux lets poll, ppoll and epoll_wait wake up late by a slack that
    /// grows with the timeout: 0.1% of it, 0.5% in a process with a
    /// positive nice value (workers run at nice 5), at most 100 ms
    /// (`select_estimate_accuracy` in fs/select.c). A worker waiting 60 s
    /// for its next snapshot woke 100 ms late, and since a late start moved
    /// its schedule, every period lasted 60.1 s. So a long wait stops short
    /// of the deadline by that slack, and the last, short one has almost
    /// none. It is rounded up: a timeout rounded down wakes a fraction of a
    /// millisecond early, and a loop then polls with 0 until the deadline.
    public static func pollTimeout(seconds: Double, limitMilliseconds: Int32 = 3_600_000) -> Int32 {
        guard seconds > 0 else { return 0 }
        let slack = kernelPollSlack(timeoutSeconds: seconds)
        let wait = slack < shortWaitSlack ? (seconds * 1000).rounded(.up) : ((seconds - slack) * 1000).rounded(.down)
        return wait >= Double(limitMilliseconds) ? limitMilliseconds : Int32(wait)
    }

    /// The most Linux adds to a poll timeout of `timeoutSeconds` for a
    /// process with a positive nice value (see `pollTimeout`).
    static func kernelPollSlack(timeoutSeconds: Double) -> Double {
        min(timeoutSeconds / 200, 0.1)
    }

    /// Below this slack a wait is not split (a wait under 0.1 s).
    static let shortWaitSlack = 0.0005

    /// poll(2) over `entries`, retrying on EINTR with the same timeout; the
    /// caller recomputes deadlines after each wake-up anyway.
    public static func poll(_ entries: inout [pollfd], timeoutMilliseconds: Int32) throws(SystemError) -> Int32 {
        let result = Glibc.poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        if result < 0 {
            if errno == EINTR { return 0 }
            throw .last("poll")
        }
        return result
    }

    public static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }
}
